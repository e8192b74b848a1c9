package layout

import (
	"strings"
	"testing"
)

func TestNav(t *testing.T) {
	tests := []struct {
		docs []string
		want string
	}{
		{nil, "/ /about"},
		{[]string{"performance", "abi", "devices", "design"}, "/ /docs/design.html /docs/abi.html /docs/devices.html /docs/performance.html /about"},
		{[]string{"zeta", "alpha"}, "/ /docs/alpha.html /docs/zeta.html /about"},
	}
	for _, tt := range tests {
		var paths []string
		for _, l := range Nav(tt.docs) {
			paths = append(paths, l.Path)
		}
		if got := strings.Join(paths, " "); got != tt.want {
			t.Errorf("Nav(%q) = %s, want %s", tt.docs, got, tt.want)
		}
	}
	if l := Nav([]string{"abi", "design"}); l[1].Label != "Design" || l[2].Label != "Guest ABI" {
		t.Errorf("labels: %+v", l)
	}
}

func TestDocNames(t *testing.T) {
	got := DocNames([]string{"index.html", "docs/abi.html", "docs/abi.html.gz", "docs/x/y.html", "docs/design.html", "style.css"})
	if strings.Join(got, ",") != "abi,design" {
		t.Errorf("DocNames = %q", got)
	}
}

func TestRenderEscapes(t *testing.T) {
	var b strings.Builder
	err := Render(&b, Page{Title: `<script>"x"</script>`, Path: "/about", Body: "<p>body</p>", Nav: Nav(nil)})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"<title>&lt;script&gt;&#34;x&#34;&lt;/script&gt; · morgana</title>",
		`<a href="/about" aria-current="page">About this image</a>`,
		`<a href="/">Home</a>`,
		"<main>\n<p>body</p></main>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q:\n%s", want, out)
		}
	}
}
