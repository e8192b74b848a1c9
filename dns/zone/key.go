package zone

import (
	"fmt"

	"github.com/miekg/dns"
)

// Key returns the key of a name in presentation form: its wire form with
// ASCII letters lowered.
func Key(name string) (string, error) {
	var buf [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), buf[:], 0, nil, false)
	if err != nil {
		return "", fmt.Errorf("name %q: %w", name, err)
	}
	for i := 0; i < n; {
		l := int(buf[i])
		for j := i + 1; j <= i+l; j++ {
			if c := buf[j]; 'A' <= c && c <= 'Z' {
				buf[j] = c + 'a' - 'A'
			}
		}
		i += 1 + l
	}
	return string(buf[:n]), nil
}

// MustKey is Key for names known to be valid.
func MustKey(name string) string {
	k, err := Key(name)
	if err != nil {
		panic(err)
	}
	return k
}

// parentKey returns the key of the parent name, "\x00" for the root's.
func parentKey(k string) string {
	if len(k) <= 1 {
		return "\x00"
	}
	return k[1+int(k[0]):]
}

// isSubKey reports whether the name with key k is at or below parent.
func isSubKey(k, parent string) bool {
	for {
		if k == parent {
			return true
		}
		if len(k) <= 1 {
			return false
		}
		k = k[1+int(k[0]):]
	}
}
