package static

import (
	"strconv"
	"strings"
)

// The content codings this package serves, in the server's order of
// preference when the client accepts several equally: brotli is smaller
// than gzip for the same text.
const (
	codingBrotli   = "br"
	codingGzip     = "gzip"
	codingIdentity = "identity"
)

// variantSuffix maps a content coding to the file-name suffix of its
// precompressed variant.
var variantSuffix = map[string]string{
	codingBrotli: ".br",
	codingGzip:   ".gz",
}

// preference is the order ties are broken in.
var preference = []string{codingBrotli, codingGzip, codingIdentity}

// acceptEncoding is a parsed Accept-Encoding request header (RFC 9110,
// section 12.5.3): the quality value of each coding the client named, and of
// "*", the codings it did not name.
type acceptEncoding struct {
	present bool // the request had the header at all
	q       map[string]float64
	star    float64
	hasStar bool
}

// parseAcceptEncoding parses the header's field values. An element with a
// malformed quality value is dropped, as if the client had not named it.
func parseAcceptEncoding(values []string) acceptEncoding {
	if len(values) == 0 {
		return acceptEncoding{} // the common request of tools: nothing to allocate
	}
	ae := acceptEncoding{present: true, q: map[string]float64{}}
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(elem, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding == "" {
				continue
			}
			q, ok := parseQ(params)
			if !ok {
				continue
			}
			if coding == "x-gzip" { // RFC 9110, section 8.4.1.3
				coding = codingGzip
			}
			if coding == "*" {
				ae.star, ae.hasStar = q, true
				continue
			}
			ae.q[coding] = q
		}
	}
	return ae
}

// parseQ returns the weight of an element's parameters ("q=0.5"); 1 when
// there is none.
func parseQ(params string) (float64, bool) {
	q := 1.0
	for p := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || f < 0 || f > 1 {
			return 0, false
		}
		q = f
	}
	return q, true
}

// quality returns how acceptable coding is to the client.
func (ae acceptEncoding) quality(coding string) float64 {
	if q, ok := ae.q[coding]; ok {
		return q
	}
	if ae.hasStar {
		return ae.star
	}
	if coding == codingIdentity {
		// Acceptable unless excluded, explicitly or by "*;q=0", but the
		// last choice: "gzip;q=0.5" asks for gzip.
		return implicitIdentity
	}
	return 0
}

// implicitIdentity is the weight of identity when the client does not name
// it: below any weight a client can write (they have three decimals).
const implicitIdentity = 0.0001

// choose returns the coding to answer with among those available (besides
// identity, which always is): the one the client weighs highest, ties
// broken by preference. A request without the header gets identity, and so
// does one that accepts nothing available: RFC 9110 lets a server send an
// unencoded response then, which is more useful than a 406.
func (ae acceptEncoding) choose(available func(coding string) bool) string {
	if !ae.present {
		return codingIdentity
	}
	best, bestQ := codingIdentity, 0.0
	for _, c := range preference {
		if c != codingIdentity && !available(c) {
			continue
		}
		if q := ae.quality(c); q > bestQ {
			best, bestQ = c, q
		}
	}
	return best
}
