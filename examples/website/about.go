package main

import (
	"fmt"
	"html"
	"io/fs"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/morgana-os/morgana/abi"
	"github.com/morgana-os/morgana/examples/website/internal/layout"
)

// imageInfo is what the about page says of the image, gathered once.
type imageInfo struct {
	size       int64 // bytes; -1 when unknown
	sizeSource string
	start      time.Time // the start of the boot
	bootSource string
	mode       string
}

// readImageInfo gathers the image's facts from what morgana run tells it
// (abi.ImageSizeEnv, abi.BootNSEnv, abi.ModeEnv: in a VM the image cannot
// stat its own executable, and its clock starts with the runtime, not with
// the monitor), falling back on what the program can see of itself.
func readImageInfo(getenv func(string) string, executable func() (string, error)) imageInfo {
	info := imageInfo{size: -1, start: processStart, bootSource: "from the start of the program", mode: getenv(abi.ModeEnv)}
	if n, err := strconv.ParseInt(getenv(abi.ImageSizeEnv), 10, 64); err == nil && n > 0 {
		info.size, info.sizeSource = n, "as the monitor reports it ("+abi.ImageSizeEnv+")"
	} else if exe, err := executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			info.size, info.sizeSource = fi.Size(), "of the executable file"
		}
	}
	if ns, err := strconv.ParseInt(getenv(abi.BootNSEnv), 10, 64); err == nil && ns > 0 {
		if t := time.Unix(0, ns); t.Before(processStart) && processStart.Sub(t) < time.Hour {
			info.start, info.bootSource = t, "from the monitor's start of the boot ("+abi.BootNSEnv+")"
		}
	}
	return info
}

// aboutPage is the "about this image" page: the image's size, its boot
// time, the ABI it runs on, and how it is doing.
type aboutPage struct {
	info   imageInfo
	site   fs.FS
	served *atomic.Int64
}

func (p *aboutPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var files []string
	var siteBytes int64
	fs.WalkDir(p.site, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, path)
			if fi, err := d.Info(); err == nil {
				siteBytes += fi.Size()
			}
		}
		return nil
	})
	var b strings.Builder
	if err := layout.Render(&b, layout.Page{
		Title: "About this image",
		Path:  "/about",
		Nav:   layout.Nav(layout.DocNames(files)),
		Body:  p.body(len(files), siteBytes),
	}); err != nil {
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	if r.Method != http.MethodHead {
		w.Write([]byte(b.String()))
	}
}

func (p *aboutPage) body(nfiles int, siteBytes int64) string {
	var counts [3]int
	for _, s := range abi.Table {
		if int(s.Status) < len(counts) {
			counts[s.Status]++
		}
	}
	total := len(abi.Table)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)

	var b strings.Builder
	b.WriteString(`<h1>About this image</h1>
<p class="lead">This page is served by <code>examples/website</code>, an ordinary Go <code>net/http</code> program
built into a morgana image. Its files are embedded in the image; the numbers below are read at the moment you asked.</p>
<div class="facts">
`)
	fact(&b, "Image size", sizeText(p.info.size), p.info.sizeSource)
	boot := "starting"
	if t := bootReady.Load(); t != nil {
		boot = fmt.Sprintf("%.1f ms", float64(t.Sub(p.info.start).Microseconds())/1000)
	}
	fact(&b, "Boot time", boot, "to the first listener, "+p.info.bootSource)
	fact(&b, "System calls", strconv.Itoa(total), fmt.Sprintf("the whole guest ABI (version %d) the image may use", abi.Version))
	modeNote := "as morgana run says (" + abi.ModeEnv + ")"
	if p.info.mode == "" {
		modeNote = abi.ModeEnv + " is not set"
	}
	fact(&b, "Runs in", modeText(p.info.mode), modeNote)
	fact(&b, "Up for", time.Since(p.info.start).Round(time.Second).String(), plural(p.served.Load(), "request")+" served")
	fact(&b, "Memory", sizeText(int64(mem.Sys)), "obtained from the system by the Go runtime")
	b.WriteString("</div>\n<h2>The guest ABI</h2>\n")
	fmt.Fprintf(&b, "<p>The monitor serves %d Linux system calls, and nothing else: any other fails with <code>ENOSYS</code>. "+
		`They are the whole attack surface of the monitor; <a href="/docs/abi.html">the table</a> says what each does.</p>`+"\n", total)
	b.WriteString(`<div class="abi-bar" role="img" aria-label="supported, partial and refused calls">`)
	for i, class := range []string{"supported", "partial", "refused"} {
		if total > 0 {
			fmt.Fprintf(&b, `<span class="%s" style="width:%.2f%%"></span>`, class, 100*float64(counts[i])/float64(total))
		}
	}
	b.WriteString("</div>\n<p class=\"key\">")
	for i, class := range []string{"supported", "partial", "refused"} {
		fmt.Fprintf(&b, `<span class="%s">%d %s</span>`, class, counts[i], class)
	}
	b.WriteString("</p>\n<h2>The program</h2>\n<table>\n")
	row(&b, "Go", runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	row(&b, "CPUs", fmt.Sprintf("%d (GOMAXPROCS %d)", runtime.NumCPU(), runtime.GOMAXPROCS(0)))
	row(&b, "Goroutines", strconv.Itoa(runtime.NumGoroutine()))
	row(&b, "Embedded site", fmt.Sprintf("%d files, %s, compressed variants included", nfiles, sizeText(siteBytes)))
	row(&b, "Booted at", p.info.start.UTC().Format(time.RFC3339))
	b.WriteString("</table>\n")
	return b.String()
}

func fact(b *strings.Builder, label, value, note string) {
	fmt.Fprintf(b, "<div class=\"fact\"><div class=\"label\">%s</div><div class=\"value\">%s</div><div class=\"note\">%s</div></div>\n",
		html.EscapeString(label), html.EscapeString(value), html.EscapeString(note))
}

func row(b *strings.Builder, k, v string) {
	fmt.Fprintf(b, "<tr><th>%s</th><td>%s</td></tr>\n", html.EscapeString(k), html.EscapeString(v))
}

// sizeText writes n bytes for people.
func sizeText(n int64) string {
	switch {
	case n < 0:
		return "unknown"
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func modeText(mode string) string {
	switch mode {
	case "hvt":
		return "a KVM VM"
	case "spt":
		return "a sandbox"
	case "unix":
		return "a process"
	case "":
		return "unknown"
	}
	return mode
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
