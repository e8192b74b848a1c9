package kvm

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// System is an open /dev/kvm.
type System struct {
	fd       int
	mmapSize int
}

// Open opens the KVM device at path and checks the API version.
func Open(path string) (*System, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	s := &System{fd: fd}
	v, err := ioctl(fd, ioGetAPIVersion, 0)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: KVM_GET_API_VERSION: %w", path, err)
	}
	if v != APIVersion {
		s.Close()
		return nil, fmt.Errorf("%s: KVM API version %d, want %d", path, v, APIVersion)
	}
	sz, err := ioctl(fd, ioGetVCPUMmapSize, 0)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: KVM_GET_VCPU_MMAP_SIZE: %w", path, err)
	}
	s.mmapSize = int(sz)
	return s, nil
}

// Close closes the device.
func (s *System) Close() error { return unix.Close(s.fd) }

// Check returns the value of KVM_CHECK_EXTENSION for a capability (0 when
// absent).
func (s *System) Check(capability uintptr) int {
	r, err := ioctl(s.fd, ioCheckExtension, capability)
	if err != nil {
		return 0
	}
	return int(r)
}

// SupportedCPUID returns the CPUID leaves KVM can offer a guest.
func (s *System) SupportedCPUID() ([]CPUIDEntry, error) {
	for n := 64; n <= 4096; n *= 2 {
		b, _ := cpuidBuf(n)
		err := ioctlPtr(s.fd, ioGetSupportedCPUID, unsafe.Pointer(&b[0]))
		if errors.Is(err, unix.E2BIG) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("KVM_GET_SUPPORTED_CPUID: %w", err)
		}
		return append([]CPUIDEntry(nil), cpuidEntries(b)...), nil
	}
	return nil, fmt.Errorf("KVM_GET_SUPPORTED_CPUID: too many entries")
}

// CreateVM creates an empty virtual machine.
func (s *System) CreateVM() (*VM, error) {
	fd, err := ioctl(s.fd, ioCreateVM, 0)
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VM: %w", err)
	}
	unix.CloseOnExec(int(fd))
	return &VM{fd: int(fd), sys: s}, nil
}
