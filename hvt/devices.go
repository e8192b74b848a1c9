package hvt

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/morgana-os/morgana/abi"
)

// attachDevices puts the configured devices into the guest's descriptor
// table and starts their receivers.
func (vm *VM) attachDevices() error {
	for _, d := range vm.cfg.Devices {
		var f file
		switch d.Info.Kind {
		case abi.NetDevice:
			n, err := newNetDev(vm, d.File, d.Info)
			if err != nil {
				return fmt.Errorf("net device %s: %w", d.Info.Name, err)
			}
			vm.nets = append(vm.nets, n)
			f = n
		case abi.BlockDevice:
			f = &blockDev{fd: int(d.File.Fd()), info: d.Info}
		default:
			return fmt.Errorf("device %s: unknown kind %q", d.Info.Name, d.Info.Kind)
		}
		if d.Info.FD < 3 || d.Info.FD > 1023 || vm.files.fds[d.Info.FD] != nil {
			return fmt.Errorf("device %s: bad descriptor %d", d.Info.Name, d.Info.FD)
		}
		vm.files.fds[d.Info.FD] = &fd{f: f, accmode: unix.O_RDWR, nonblock: d.Info.Kind == abi.NetDevice}
	}
	for _, n := range vm.nets {
		vm.devWG.Add(1)
		go func() {
			defer vm.devWG.Done()
			n.receive()
		}()
	}
	return nil
}

// stopDevices ends the device goroutines of a stopped VM and waits for
// them, so that none touches guest memory once it is released: a receiver
// blocked on its host descriptor is woken by a read deadline in the past.
func (vm *VM) stopDevices() {
	for _, n := range vm.nets {
		n.mu.Lock() // against a receiver clearing the deadline (netDev.interrupted)
		n.file.SetReadDeadline(time.Unix(1, 0))
		n.mu.Unlock()
	}
	vm.devWG.Wait()
}
