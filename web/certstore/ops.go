package certstore

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"golang.org/x/crypto/acme/autocert"
)

// Get returns the value of key, or autocert.ErrCacheMiss.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.index[key]
	if r == nil || r.kind != kindPut {
		return nil, autocert.ErrCacheMiss
	}
	return append([]byte(nil), r.val...), nil
}

// Put stores data under key. When it returns nil the value is on the
// device (and flushed, if the device can be).
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("certstore: put: key of %d bytes (1 to %d allowed)", len(key), MaxKeyLen)
	}
	if int64(len(data)) > s.half {
		return fmt.Errorf("certstore: put %q (%d bytes): %w", key, len(data), ErrFull)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.append(&record{kind: kindPut, key: key, val: append([]byte(nil), data...)})
}

// Delete removes key; removing a key that is not there is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.index[key]; r == nil || r.kind != kindPut {
		return nil
	}
	return s.append(&record{kind: kindDelete, key: key})
}

// Keys returns the stored keys, sorted.
func (s *Store) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k, r := range s.index {
		if r.kind == kindPut {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// append writes r at the head of the active half, or compacts into the
// other half when it does not fit.
func (s *Store) append(r *record) error {
	if s.broken != nil {
		return fmt.Errorf("certstore: %s %q: the device failed: %w", opName(r), r.key, s.broken)
	}
	r.id, r.seq = s.id, s.seq+1
	if s.head+r.size(s.sector) > s.half-s.sector {
		return s.compact(r)
	}
	if err := s.writeAt(r.encode(s.sector), s.base()+s.sector+s.head); err != nil {
		return fmt.Errorf("certstore: %s %q: %w", opName(r), r.key, err)
	}
	s.head += r.size(s.sector)
	s.apply(r)
	return nil
}

// compact writes the live values, with r applied, to the other half and
// makes it active. Until its header is written the active half is
// untouched, so a failure or a crash at any point loses nothing.
func (s *Store) compact(r *record) error {
	target := 1 - s.active
	gen, id := s.gen+1, rand.Uint64()
	var live []*record
	for k, old := range s.index {
		if old.kind == kindPut && k != r.key {
			live = append(live, &record{id: id, seq: old.seq, kind: kindPut, key: k, val: old.val})
		}
	}
	if r.kind == kindPut {
		live = append(live, &record{id: id, seq: r.seq, kind: kindPut, key: r.key, val: r.val})
	}
	slices.SortFunc(live, func(a, b *record) int { return cmp.Compare(a.seq, b.seq) })
	var buf []byte
	for _, l := range live {
		buf = append(buf, l.encode(s.sector)...)
	}
	if int64(len(buf)) > s.half-s.sector {
		return fmt.Errorf("certstore: %s %q (%d bytes): %w: the %d live values would take %d bytes, and half the device holds %d",
			opName(r), r.key, len(r.val), ErrFull, len(live), len(buf), s.half-s.sector)
	}
	tbase := int64(target) * s.half
	if len(buf) > 0 {
		if err := s.writeAt(buf, tbase+s.sector); err != nil {
			return fmt.Errorf("certstore: compact: %w", err)
		}
	}
	h := header{sector: s.sector, gen: gen, half: s.half, id: id}
	if err := s.writeAt(h.encode(s.sector), tbase); err != nil {
		// The header may have landed all the same, making the other
		// half active: what is on the device decides.
		if rerr := s.reload(); rerr != nil {
			s.broken = rerr
		}
		return fmt.Errorf("certstore: compact: %w", err)
	}
	s.active, s.gen, s.id, s.head = target, gen, id, int64(len(buf))
	s.index = map[string]*record{}
	for _, l := range live {
		s.apply(l)
	}
	s.seq = max(s.seq, r.seq)
	s.log.Info("certstore: compacted", "half", target, "generation", gen, "values", len(live), "bytes", len(buf))
	return nil
}

func opName(r *record) string {
	if r.kind == kindDelete {
		return "delete"
	}
	return "put"
}

// readAt reads len(b) bytes at off, in chunks of about a MiB, whole
// sectors each.
func (s *Store) readAt(b []byte, off int64) error {
	chunk := int(max(1<<20/s.sector, 1) * s.sector)
	for len(b) > 0 {
		n := min(len(b), chunk)
		if _, err := s.dev.ReadAt(b[:n], off); err != nil {
			return fmt.Errorf("certstore: read %d bytes at %d: %w", n, off, err)
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
}

// writeAt writes b at off and flushes the device.
func (s *Store) writeAt(b []byte, off int64) error {
	if _, err := s.dev.WriteAt(b, off); err != nil {
		return err
	}
	switch d := s.dev.(type) {
	case interface{ Flush() error }:
		return d.Flush()
	case interface{ Sync() error }:
		return d.Sync()
	}
	return nil
}
