package website

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/internal/testenv"
)

// screenshotEnv names a directory to keep the screenshots in, to look at.
const screenshotEnv = "MORGANA_SCREENSHOT_DIR"

// chromium finds a Chromium: scripts/test.sh installs Debian's, so CI
// (MORGANA_REQUIRE_COMMANDS=1) fails without one; elsewhere the test skips.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return testenv.MustHaveCommand(t, "chromium")
}

// TestScreenshot has headless Chromium load the about page, with its style
// sheet, and checks what it drew: the page's dark header, and the bar of
// the guest ABI with its three parts in proportion to the ABI table.
func TestScreenshot(t *testing.T) {
	browser := chromium(t)
	p := startWebsite(t, append([]string{mustWebsite(t)}, args()...)...)
	dir := t.TempDir()
	if d := os.Getenv(screenshotEnv); d != "" {
		dir = d
	}
	shot := filepath.Join(dir, "about.png")
	os.Remove(shot)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+filepath.Join(t.TempDir(), "profile"), "--hide-scrollbars", "--window-size=1280,1100",
		"--screenshot="+shot, p.url("/about"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", browser, err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1100 {
		t.Errorf("screenshot of %v, want 1280x1100", b)
	}
	// The header is dark only when the style sheet was applied.
	if !near(img.At(5, 5), color.RGBA{0x17, 0x14, 0x1f, 0xff}) {
		t.Errorf("the header's corner is %v, not the style sheet's dark bar", img.At(5, 5))
	}
	checkABIBar(t, img)

	wants := []string{`"GET /about HTTP/1.1" 200 `, `"GET /style.css HTTP/1.1" 200 `, "HeadlessChrome"}
	log := p.waitAccessLog(t, containsAll(wants...))
	for _, want := range wants {
		if !strings.Contains(log, want) {
			t.Errorf("the access log lacks %s:\n%s", want, log)
		}
	}
}

// The colours of the ABI bar's parts, from the style sheet.
var (
	supportedColor = color.RGBA{0x2e, 0x9d, 0x5b, 0xff}
	partialColor   = color.RGBA{0xd9, 0x9a, 0x1e, 0xff}
	refusedColor   = color.RGBA{0xc8, 0x44, 0x4b, 0xff}
)

// checkABIBar finds the ABI bar in img and checks that its parts are as
// wide as the counts of supported, partial and refused calls say.
func checkABIBar(t *testing.T, img image.Image) {
	t.Helper()
	var counts [3]int
	for _, s := range abi.Table {
		counts[s.Status]++
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		var widths [3]int
		for x := b.Min.X; x < b.Max.X; x++ {
			for i, c := range []color.RGBA{supportedColor, partialColor, refusedColor} {
				if near(img.At(x, y), c) {
					widths[i]++
				}
			}
		}
		total := widths[0] + widths[1] + widths[2]
		if total < 300 { // not the bar (the key's squares are small)
			continue
		}
		for i := range widths {
			want := float64(counts[i]) / float64(len(abi.Table))
			if got := float64(widths[i]) / float64(total); got < want-0.02 || got > want+0.02 {
				t.Errorf("part %d of the ABI bar is %.3f of it, want %.3f (%d of %d calls)", i, got, want, counts[i], len(abi.Table))
			}
		}
		return
	}
	t.Error("no ABI bar in the screenshot")
}

// near reports whether c is within a small distance of want, per channel.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { x := int(a>>8) - int(w); return x > -12 && x < 12 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}
