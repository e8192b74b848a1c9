package vdso

import "encoding/binary"

// The Go runtime looks symbols up through DT_GNU_HASH when present, else
// DT_HASH; other consumers (glibc, debuggers) use either. We emit both.

// sysvHash is the ELF (DT_HASH) hash, also used for version names.
func sysvHash(name string) uint32 {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		g := h & 0xf0000000
		h ^= g >> 24
		h &^= g
	}
	return h
}

// gnuHash is the DT_GNU_HASH hash (Bernstein's h*33+c).
func gnuHash(name string) uint32 {
	h := uint32(5381)
	for i := 0; i < len(name); i++ {
		h = h*33 + uint32(name[i])
	}
	return h
}

// Both tables hash the symbols 1..len(names)-1 (0 is the null symbol).
const (
	hashBuckets = 3
	bloomShift  = 6
)

// sysvHashTable builds a DT_HASH section: nbucket, nchain, buckets, chains.
func sysvHashTable(names []string) []byte {
	bucket := make([]uint32, hashBuckets)
	chain := make([]uint32, len(names))
	for i := 1; i < len(names); i++ {
		b := sysvHash(names[i]) % hashBuckets
		chain[i] = bucket[b]
		bucket[b] = uint32(i)
	}
	words := append([]uint32{hashBuckets, uint32(len(names))}, bucket...)
	return le32(append(words, chain...))
}

// gnuBucket is the bucket of a name; DT_GNU_HASH needs the symbol table
// sorted by it.
func gnuBucket(name string) uint32 {
	return gnuHash(name) % hashBuckets
}

// gnuHashTable builds a DT_GNU_HASH section for names already sorted by
// gnuBucket: header, a one-word bloom filter, buckets, hash chain.
func gnuHashTable(names []string) []byte {
	const symOffset = 1
	var bloom uint64
	bucket := make([]uint32, hashBuckets)
	chain := make([]uint32, len(names)-symOffset)
	for i := symOffset; i < len(names); i++ {
		h := gnuHash(names[i])
		bloom |= 1<<(h%64) | 1<<((h>>bloomShift)%64)
		b := h % hashBuckets
		if bucket[b] == 0 {
			bucket[b] = uint32(i)
		}
		chain[i-symOffset] = h &^ 1
		if i+1 == len(names) || gnuBucket(names[i+1]) != b {
			chain[i-symOffset] |= 1 // last in its bucket
		}
	}
	words := []uint32{hashBuckets, symOffset, 1, bloomShift, uint32(bloom), uint32(bloom >> 32)}
	words = append(words, bucket...)
	return le32(append(words, chain...))
}

func le32(words []uint32) []byte {
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}
