package vdso

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A port of the Go runtime's vDSO lookup (runtime/vdso_linux.go,
// vdso_elf64.go, vdso_linux_amd64.go, Go 1.26): same structures, same
// pointer walk, same checks, run over the image in Go memory.

const (
	rtArrayMax   = 1<<50 - 1
	rtSymTabSize = rtArrayMax / unsafe.Sizeof(rtSym{})
	rtDynSize    = rtArrayMax / unsafe.Sizeof(rtDyn{})
	rtHashSize   = rtArrayMax / 4
	rtVerSymSize = rtArrayMax / 2
)

type rtSym struct {
	st_name  uint32
	st_info  byte
	st_other byte
	st_shndx uint16
	st_value uint64
	st_size  uint64
}

type rtVerdef struct {
	vd_version, vd_flags, vd_ndx, vd_cnt uint16
	vd_hash, vd_aux, vd_next             uint32
}

type rtEhdr struct {
	e_ident                                                          [16]byte
	e_type, e_machine                                                uint16
	e_version                                                        uint32
	e_entry, e_phoff, e_shoff                                        uint64
	e_flags                                                          uint32
	e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx uint16
}

type rtPhdr struct {
	p_type, p_flags                                        uint32
	p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align uint64
}

type rtDyn struct {
	d_tag int64
	d_val uint64
}

type rtVerdaux struct{ vda_name, vda_next uint32 }

type rtSymbolKey struct {
	name             string
	symHash, gnuHash uint32
}

// The runtime's keys, verbatim.
var (
	rtLinuxVersion = struct {
		version string
		verHash uint32
	}{"LINUX_2.6", 0x3ae75f6}
	rtSymbolKeys = []rtSymbolKey{
		{"__vdso_gettimeofday", 0x315ca59, 0xb01bca00},
		{"__vdso_clock_gettime", 0xd35ec75, 0x6e43a318},
		{"__vdso_getrandom", 0x25425d, 0x84a559bf},
	}
)

type rtInfo struct {
	mem                  unsafe.Pointer // the image; see ptr
	valid                bool
	loadAddr, loadOffset uintptr
	symtab               *[rtSymTabSize]rtSym
	symstrings           *[rtArrayMax]byte
	chain, bucket        []uint32
	symOff               uint32
	isGNUHash            bool
	versym               *[rtVerSymSize]uint16
	verdef               *rtVerdef
}

// ptr turns an address computed the runtime's way (uintptr arithmetic)
// back into a pointer into the image. In the runtime the image is not Go
// memory and this is a plain conversion; here it keeps go vet content.
func (info *rtInfo) ptr(addr uintptr) unsafe.Pointer {
	return unsafe.Add(info.mem, addr-uintptr(info.mem))
}

func rtString(p *byte) string {
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return unsafe.String(p, n)
}

func rtInitFromSysinfoEhdr(info *rtInfo, hdr *rtEhdr) {
	info.valid = false
	info.mem = unsafe.Pointer(hdr)
	info.loadAddr = uintptr(unsafe.Pointer(hdr))
	pt := info.ptr(info.loadAddr + uintptr(hdr.e_phoff))
	var foundVaddr bool
	var dyn *[rtDynSize]rtDyn
	for i := uint16(0); i < hdr.e_phnum; i++ {
		pt := (*rtPhdr)(unsafe.Add(pt, uintptr(i)*unsafe.Sizeof(rtPhdr{})))
		switch pt.p_type {
		case 1: // PT_LOAD
			if !foundVaddr {
				foundVaddr = true
				info.loadOffset = info.loadAddr + uintptr(pt.p_offset-pt.p_vaddr)
			}
		case 2: // PT_DYNAMIC
			dyn = (*[rtDynSize]rtDyn)(info.ptr(info.loadAddr + uintptr(pt.p_offset)))
		}
	}
	if !foundVaddr || dyn == nil {
		return
	}
	var hash, gnuhash *[rtHashSize]uint32
	for i := 0; dyn[i].d_tag != 0; i++ {
		dt := &dyn[i]
		p := info.loadOffset + uintptr(dt.d_val)
		switch dt.d_tag {
		case 5: // DT_STRTAB
			info.symstrings = (*[rtArrayMax]byte)(info.ptr(p))
		case 6: // DT_SYMTAB
			info.symtab = (*[rtSymTabSize]rtSym)(info.ptr(p))
		case 4: // DT_HASH
			hash = (*[rtHashSize]uint32)(info.ptr(p))
		case 0x6ffffef5: // DT_GNU_HASH
			gnuhash = (*[rtHashSize]uint32)(info.ptr(p))
		case 0x6ffffff0: // DT_VERSYM
			info.versym = (*[rtVerSymSize]uint16)(info.ptr(p))
		case 0x6ffffffc: // DT_VERDEF
			info.verdef = (*rtVerdef)(info.ptr(p))
		}
	}
	if info.symstrings == nil || info.symtab == nil || (hash == nil && gnuhash == nil) {
		return
	}
	if info.verdef == nil {
		info.versym = nil
	}
	if gnuhash != nil {
		nbucket := gnuhash[0]
		info.symOff = gnuhash[1]
		bloomSize := gnuhash[2]
		info.bucket = gnuhash[4+bloomSize*2:][:nbucket]
		info.chain = gnuhash[4+bloomSize*2+nbucket:]
		info.isGNUHash = true
	} else {
		nbucket := hash[0]
		nchain := hash[1]
		info.bucket = hash[2 : 2+nbucket]
		info.chain = hash[2+nbucket : 2+nbucket+nchain]
	}
	info.valid = true
}

func rtFindVersion(info *rtInfo) int32 {
	if !info.valid {
		return 0
	}
	def := info.verdef
	for {
		if def.vd_flags&1 == 0 { // VER_FLG_BASE
			aux := (*rtVerdaux)(unsafe.Add(unsafe.Pointer(def), uintptr(def.vd_aux)))
			if def.vd_hash == rtLinuxVersion.verHash && rtLinuxVersion.version == rtString(&info.symstrings[aux.vda_name]) {
				return int32(def.vd_ndx & 0x7fff)
			}
		}
		if def.vd_next == 0 {
			break
		}
		def = (*rtVerdef)(unsafe.Add(unsafe.Pointer(def), uintptr(def.vd_next)))
	}
	return -1
}

// rtParseSymbols returns the symbols found, as offsets from loadAddr.
func rtParseSymbols(info *rtInfo, version int32) map[string]uintptr {
	found := map[string]uintptr{}
	if !info.valid {
		return found
	}
	apply := func(symIndex uint32, k rtSymbolKey) bool {
		sym := &info.symtab[symIndex]
		typ, bind := sym.st_info&0xf, sym.st_info>>4
		if typ != 2 && typ != 0 || bind != 1 && bind != 2 || sym.st_shndx == 0 {
			return false
		}
		if k.name != rtString(&info.symstrings[sym.st_name]) {
			return false
		}
		if info.versym != nil && version != 0 && int32(info.versym[symIndex]&0x7fff) != version {
			return false
		}
		found[k.name] = info.loadOffset + uintptr(sym.st_value) - info.loadAddr
		return true
	}
	if !info.isGNUHash {
		for _, k := range rtSymbolKeys {
			if len(info.bucket) > 0 {
				for chain := info.bucket[k.symHash%uint32(len(info.bucket))]; chain != 0; chain = info.chain[chain] {
					if apply(chain, k) {
						break
					}
				}
			}
		}
		return found
	}
	for _, k := range rtSymbolKeys {
		symIndex := info.bucket[k.gnuHash%uint32(len(info.bucket))]
		if symIndex < info.symOff {
			continue
		}
		for ; ; symIndex++ {
			hash := info.chain[symIndex-info.symOff]
			if hash|1 == k.gnuHash|1 {
				if apply(symIndex, k) {
					break
				}
			}
			if hash&1 != 0 {
				break
			}
		}
	}
	return found
}

// withoutGNUHash returns a copy of img whose DT_GNU_HASH entry is retagged
// DT_SYMENT (ignored by the runtime), forcing the DT_HASH path.
func withoutGNUHash(t *testing.T, img []byte) []byte {
	out := append([]byte(nil), img...)
	f, _ := parseImage(t)
	d := f.Section(".dynamic")
	for off := d.Offset; off < d.Offset+d.Size; off += 16 {
		if binary.LittleEndian.Uint64(out[off:]) == 0x6ffffef5 {
			binary.LittleEndian.PutUint64(out[off:], 11)
			return out
		}
	}
	t.Fatal("no DT_GNU_HASH")
	return nil
}

func TestRuntimeLookup(t *testing.T) {
	f, img := parseImage(t)
	want := map[string]uintptr{}
	syms, _ := f.DynamicSymbols()
	for _, s := range syms {
		if s.Name == "__vdso_gettimeofday" || s.Name == "__vdso_clock_gettime" {
			want[s.Name] = uintptr(s.Value)
		}
	}
	for _, tc := range []struct {
		name string
		img  []byte
		gnu  bool
	}{
		{"DT_GNU_HASH", img, true},
		{"DT_HASH", withoutGNUHash(t, img), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Like the real vDSO, the image is outside the Go heap (which
			// also keeps checkptr quiet about the runtime's huge arrays).
			mem, err := unix.Mmap(-1, 0, len(tc.img), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Munmap(mem)
			copy(mem, tc.img)
			var info rtInfo
			rtInitFromSysinfoEhdr(&info, (*rtEhdr)(unsafe.Pointer(&mem[0])))
			if !info.valid || info.isGNUHash != tc.gnu {
				t.Fatalf("valid %v, GNU hash %v", info.valid, info.isGNUHash)
			}
			ver := rtFindVersion(&info)
			if ver != 2 {
				t.Errorf("version index %d, want 2", ver)
			}
			got := rtParseSymbols(&info, ver)
			if len(got) != 2 || got["__vdso_gettimeofday"] != want["__vdso_gettimeofday"] ||
				got["__vdso_clock_gettime"] != want["__vdso_clock_gettime"] {
				t.Errorf("found %v, want %v (and no __vdso_getrandom)", got, want)
			}
		})
	}
}

// TestRuntimeKeys checks the port's keys and our hash functions against
// the installed runtime's source, so a new Go release cannot drift.
func TestRuntimeKeys(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "runtime", "vdso_linux_amd64.go"))
	if err != nil {
		t.Skip(err)
	}
	key := regexp.MustCompile(`\{"(\w+)", (0x[0-9a-f]+), (0x[0-9a-f]+), &\w+\}`)
	keys := key.FindAllSubmatch(src, -1)
	if len(keys) != len(rtSymbolKeys) {
		t.Errorf("runtime has %d symbol keys, the port %d", len(keys), len(rtSymbolKeys))
	}
	for i, m := range keys {
		name := string(m[1])
		sh, _ := strconv.ParseUint(string(m[2]), 0, 32)
		gh, _ := strconv.ParseUint(string(m[3]), 0, 32)
		if i < len(rtSymbolKeys) && rtSymbolKeys[i] != (rtSymbolKey{name, uint32(sh), uint32(gh)}) {
			t.Errorf("runtime key %s %#x %#x, port has %+v", name, sh, gh, rtSymbolKeys[i])
		}
		if sysvHash(name) != uint32(sh) || gnuHash(name) != uint32(gh) {
			t.Errorf("%s: hashes %#x %#x, runtime %#x %#x", name, sysvHash(name), gnuHash(name), sh, gh)
		}
	}
	ver := regexp.MustCompile(`vdsoVersionKey\{"(LINUX_[\d.]+)", (0x[0-9a-f]+)\}`).FindSubmatch(src)
	if ver == nil || string(ver[1]) != version {
		t.Fatalf("runtime asks for version %q, we define %q", ver, version)
	}
	if h, _ := strconv.ParseUint(string(ver[2]), 0, 32); sysvHash(version) != uint32(h) {
		t.Errorf("version hash %#x, runtime %#x", sysvHash(version), h)
	}
}
