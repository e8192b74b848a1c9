package imagebuild

import "strings"

// tailBuffer keeps the end of a command's output for error messages,
// within a fixed bound however much the command writes.
type tailBuffer struct {
	buf []byte
}

const tailMax = 16 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > tailMax {
		p = p[len(p)-tailMax:]
	}
	if over := len(t.buf) + len(p) - tailMax; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// lines returns up to n last non-empty lines, each at most 300 bytes.
func (t *tailBuffer) lines(n int) []string {
	var out []string
	for _, l := range strings.Split(string(t.buf), "\n") {
		l = strings.TrimRight(l, "\r\t ")
		if l == "" {
			continue
		}
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		out = append(out, l)
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
