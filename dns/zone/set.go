package zone

import "fmt"

// Set is the zones a server is authoritative for, several at once, nested
// or not (a parent and a child it delegates to may both be served).
type Set struct {
	zones  []*Zone
	byApex map[string]*Zone
}

// NewSet groups zones; two zones with the same origin are an error.
func NewSet(zones ...*Zone) (*Set, error) {
	s := &Set{byApex: map[string]*Zone{}}
	for _, z := range zones {
		if old := s.byApex[z.Apex.Key]; old != nil {
			return nil, fmt.Errorf("zone %s: loaded twice, from %s and %s", z.Origin, old.File, z.File)
		}
		s.byApex[z.Apex.Key] = z
		s.zones = append(s.zones, z)
	}
	return s, nil
}

// Zones returns the zones, in the order given to NewSet.
func (s *Set) Zones() []*Zone { return s.zones }

// Find returns the zone with the longest origin at or above the name with
// key (the zone that is authoritative for it, or that delegates it), or nil.
func (s *Set) Find(key string) *Zone {
	for k := key; ; k = parentKey(k) {
		if z := s.byApex[k]; z != nil {
			return z
		}
		if len(k) <= 1 {
			return nil
		}
	}
}

// Parent returns the zone that holds the delegation of z, if served.
func (s *Set) Parent(z *Zone) *Zone {
	if len(z.Apex.Key) <= 1 {
		return nil
	}
	return s.Find(parentKey(z.Apex.Key))
}
