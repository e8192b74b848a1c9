package dns

import (
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
)

// digNormalize keeps what dig prints of the answer itself: the header
// without its ID, the flags, the OPT pseudo-section (but the extended
// errors NSD and Knot add), the question as is, and each section's records
// sorted and lowered. Timing, sizes and the server's address go.
func digNormalize(out string) string {
	drop := regexp.MustCompile(`^(; <<>> DiG|;; global options|;; Got answer|;; Query time|;; SERVER|;; WHEN|;; MSG SIZE|; \(\d server|; EDE|;; WARNING|;; Warning|;; BADCOOKIE)`)
	id := regexp.MustCompile(`, id: \d+`)
	xfr := regexp.MustCompile(`;; XFR size: (\d+) records.*`)
	var out2 []string
	var section []string
	flush := func() {
		sort.Strings(section)
		out2 = append(out2, section...)
		section = nil
	}
	inQuestion := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, " \t")
		switch {
		case l == "" || drop.MatchString(l):
			continue
		case strings.HasPrefix(l, ";; ") && strings.HasSuffix(l, "SECTION:"):
			flush()
			inQuestion = strings.Contains(l, "QUESTION")
			out2 = append(out2, l)
			continue
		case strings.HasPrefix(l, ";; ->>HEADER"):
			flush()
			out2 = append(out2, id.ReplaceAllString(l, ""))
			continue
		case xfr.MatchString(l):
			flush()
			out2 = append(out2, xfr.ReplaceAllString(l, ";; XFR records: $1"))
			continue
		}
		if inQuestion {
			section = append(section, l)
		} else {
			section = append(section, strings.ToLower(strings.Join(strings.Fields(l), " ")))
		}
	}
	flush()
	return strings.Join(out2, "\n")
}

// TestDig compares what Debian's dig shows of morgana's and NSD's answers:
// over UDP with and without EDNS, truncated answers as they come (+ignore)
// and as dig retries them over TCP, over TCP, zone transfers to an allowed
// and a refused address.
func TestDig(t *testing.T) {
	r := newReferee(t)
	var cases [][]string
	for _, name := range []string{
		"example.com", "WwW.ExAmPlE.cOm", "nope.example.com", "alias.example.com", "chain1.example.com",
		"dangling.example.com", "ext.example.com", "loop1.example.com", "foo.wild.example.com",
		"x.cn.example.com", "x.sub.example.com", "deleg.example.com", "big.example.com", "many.example.com",
		"b.c.example.com", "_sip._udp.example.com", "anything.example.org", "www.dn.example.org",
		"www.child.example.org", "80.2.0.192.in-addr.arpa", "example.net",
	} {
		for _, typ := range []string{"A", "TXT", "ANY"} {
			cases = append(cases, []string{name, typ})
		}
	}
	cases = append(cases, []string{"example.com", "MX"}, []string{"example.com", "NS"}, []string{"example.com", "CAA"},
		[]string{"_sip._udp.example.com", "SRV"}, []string{"80.2.0.192.in-addr.arpa", "PTR"}, []string{"sub.example.com", "DS"})
	// The flags of dig itself, on answers that fit and answers that do not.
	for _, q := range [][]string{{"www.example.com", "A"}, {"big.example.com", "TXT"}, {"many.example.com", "A"}} {
		for _, flags := range [][]string{{"+noedns"}, {"+noedns", "+ignore"}, {"+bufsize=512", "+ignore"}, {"+dnssec"}, {"+tcp"}} {
			cases = append(cases, append(append([]string{}, q...), flags...))
		}
	}
	// dig is slow to start: a few at a time.
	work := make(chan []string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				got := digNormalize(r.morgana.dig(t, c...))
				want := digNormalize(r.nsd.dig(t, c...))
				if got != want {
					t.Errorf("dig %s: morgana (+) differs from NSD (-):\n%s", strings.Join(c, " "), diff(want, got))
				}
			}
		}()
	}
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	r.compared = len(cases)
	t.Logf("%d dig queries compared", r.compared)
}

// TestDigTransfer transfers every zone with dig from the allowed address,
// and is refused from 127.0.0.2, by both servers alike.
func TestDigTransfer(t *testing.T) {
	r := newReferee(t)
	for _, f := range zoneFiles {
		zone := zoneOrigin(f)
		for _, from := range []string{xfrAllowed, "127.0.0.2"} {
			got := r.morgana.dig(t, "-b", from, zone, "AXFR")
			want := r.nsd.dig(t, "-b", from, zone, "AXFR")
			g, w := digNormalize(got), digNormalize(want)
			if g != w {
				t.Errorf("dig -b %s %s AXFR: morgana (+) differs from NSD (-):\n%s", from, zone, diff(w, g))
			}
			refused := strings.Contains(got, "Transfer failed")
			if refused != (from != xfrAllowed) {
				t.Errorf("dig -b %s %s AXFR: refused %v\n%s", from, zone, refused, got)
			}
		}
	}
}
