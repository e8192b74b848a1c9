package certstore

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"

	"golang.org/x/crypto/acme/autocert"
)

// ErrFull is returned, wrapped, by Put when the live values and the new
// one do not fit in half the device. The store is unchanged.
var ErrFull = errors.New("certificate store is full")

// maxUsed bounds the part of the device a Store uses: a half is read whole
// into memory when the store opens. Certificates take a few KiB each.
const maxUsed = 16 << 20

// Options adjust a Store.
type Options struct {
	// Logger receives the damaged records and headers Open skips, and the
	// compactions. Nil: slog.Default().
	Logger *slog.Logger
}

// Store is a small key/value store on a Device, and an autocert.Cache. Its
// methods are safe for concurrent use; a Store must be the only user of its
// device.
type Store struct {
	dev    Device
	log    *slog.Logger
	sector int64
	half   int64 // size of each half, header included

	mu     sync.Mutex
	active int    // 0 or 1
	gen    uint64 // of the active half
	id     uint64 // of the active half
	seq    uint64 // the highest sequence number written
	head   int64  // where the next record goes, from the active half's first record
	index  map[string]*record
	broken error // set when the state of the device could not be known after a failed write
}

var _ autocert.Cache = (*Store)(nil)

// Open reads the store on dev, formatting the device when it holds none.
func Open(dev Device, opts Options) (*Store, error) {
	s := &Store{dev: dev, log: opts.Logger, sector: 512, index: map[string]*record{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	if ss, ok := dev.(interface{ SectorSize() int }); ok && int64(ss.SectorSize()) > s.sector {
		s.sector = int64(ss.SectorSize())
	}
	if s.sector%512 != 0 {
		return nil, fmt.Errorf("certstore: sector size %d is not a multiple of 512", s.sector)
	}
	used := min(dev.Size(), maxUsed)
	s.half = used / 2 / s.sector * s.sector
	if s.half < 4*s.sector {
		return nil, fmt.Errorf("certstore: a %d-byte device is too small (at least %d bytes)", dev.Size(), 8*s.sector)
	}
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// reload reads the store's state from the device.
func (s *Store) reload() error {
	s.active, s.seq, s.head, s.index = 0, 0, 0, map[string]*record{}
	h, err := s.readHeaders()
	if err != nil {
		return err
	}
	return s.scan(h)
}

// readHeaders finds the active half, formatting the device when neither
// half has a header.
func (s *Store) readHeaders() (header, error) {
	var hs [2]header
	var ok [2]bool
	damaged, foreign := false, false
	for i := range hs {
		b := make([]byte, s.sector)
		if err := s.readAt(b, int64(i)*s.half); err != nil {
			return header{}, err
		}
		var why string
		hs[i], ok[i], why = decodeHeader(b)
		if why != "" {
			s.log.Warn("certstore: ignoring a damaged header", "half", i, "why", why)
			damaged = true
		}
		if !ok[i] && why == "" && slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) {
			foreign = true
		}
		if i == 0 && ok[0] && hs[0].half != s.half {
			// The device was formatted at another size: the second
			// header is where the first says.
			if hs[0].half < 4*s.sector || hs[0].half%s.sector != 0 || 2*hs[0].half > s.dev.Size() {
				return header{}, fmt.Errorf("certstore: the device was formatted with %d-byte halves, which do not fit its %d bytes", hs[0].half, s.dev.Size())
			}
			s.half = hs[0].half
		}
	}
	for i := range hs {
		if ok[i] && hs[i].sector != s.sector {
			return header{}, fmt.Errorf("certstore: the device was formatted with %d-byte sectors, not %d", hs[i].sector, s.sector)
		}
	}
	switch {
	case ok[0] && ok[1]:
		if hs[1].gen > hs[0].gen {
			s.active = 1
		}
	case ok[1]:
		s.active = 1
	case !ok[0]:
		// Format a blank device, or one of ours whose headers are
		// damaged; never one that holds something else (a disk given
		// by mistake).
		if foreign && !damaged {
			return header{}, errors.New("certstore: the device is not a certificate store, nor blank: zero it to use it as one")
		}
		h := header{sector: s.sector, gen: 1, half: s.half, id: rand.Uint64()}
		if err := s.writeAt(h.encode(s.sector), 0); err != nil {
			return header{}, fmt.Errorf("certstore: format: %w", err)
		}
		s.log.Info("certstore: formatted the device", "size", 2*s.half)
		return h, nil
	}
	return hs[s.active], nil
}

// scan reads the active half's records into the index.
func (s *Store) scan(h header) error {
	s.gen, s.id = h.gen, h.id
	buf := make([]byte, s.half-s.sector)
	if err := s.readAt(buf, s.base()+s.sector); err != nil {
		return err
	}
	for off := int64(0); off < int64(len(buf)); {
		r, n, ok, why := decodeRecord(buf[off:], s.sector)
		switch {
		case !ok:
			if why != "" {
				s.log.Warn("certstore: ignoring a damaged record", "offset", s.base()+s.sector+off, "why", why)
			}
			off += s.sector
		case r.id != s.id: // left from an earlier use of this half
			off += n
		default:
			s.apply(&r)
			off += n
			s.head = off
		}
	}
	return nil
}

// apply makes r the key's latest record unless a later one is known.
func (s *Store) apply(r *record) {
	if old := s.index[r.key]; old == nil || old.seq < r.seq {
		s.index[r.key] = r
	}
	s.seq = max(s.seq, r.seq)
}

// base is where the active half starts.
func (s *Store) base() int64 { return int64(s.active) * s.half }
