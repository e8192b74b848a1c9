package x86

// Page-table entry bits (SDM vol. 3 §4.5).
const (
	PTEPresent  = 1 << 0
	PTEWrite    = 1 << 1
	PTEUser     = 1 << 2
	PTEAccessed = 1 << 5
	PTEDirty    = 1 << 6
	PTEHuge     = 1 << 7
	PTENoExec   = 1 << 63
	// PTEAddr masks the physical frame address in an entry.
	PTEAddr = 0x000f_ffff_ffff_f000
)

// PageSize is the only page size the monitor maps.
const PageSize = 4096

// Page-fault error code bits.
const (
	PFPresent = 1 << 0 // the fault was a protection violation
	PFWrite   = 1 << 1
	PFUser    = 1 << 2
	PFFetch   = 1 << 4
)

// Control register and EFER bits the monitor sets.
const (
	CR0PE = 1 << 0
	CR0MP = 1 << 1
	CR0ET = 1 << 4
	CR0NE = 1 << 5
	CR0WP = 1 << 16
	CR0PG = 1 << 31

	CR4PAE        = 1 << 5
	CR4OSFXSR     = 1 << 9
	CR4OSXMMEXCPT = 1 << 10
	CR4OSXSAVE    = 1 << 18

	EFERSCE = 1 << 0
	EFERLME = 1 << 8
	EFERLMA = 1 << 10
	EFERNXE = 1 << 11
)

// Canonical reports whether va is a canonical 48-bit address.
func Canonical(va uint64) bool {
	top := va >> 47
	return top == 0 || top == 0x1ffff
}
