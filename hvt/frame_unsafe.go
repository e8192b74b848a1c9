package hvt

import (
	"unsafe"

	"github.com/morgana-os/morgana/kvm"
)

// xsaveBytes is the byte view of an XSAVE area.
func xsaveBytes(x *kvm.XSAVE) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(x)), unsafe.Sizeof(*x))
}
