package sitegen

import (
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// rewriteLink maps a link of the Markdown file (a path in the repository)
// to the site: a link to another rendered document goes to its page; a link
// to any other file of the repository goes to the repository's web view,
// since the site does not carry the source; anything absolute, and anything
// outside the repository, is left alone.
func rewriteLink(root, file, dest string, pages map[string]string) string {
	u, err := url.Parse(dest)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" || strings.HasPrefix(u.Path, "/") {
		return dest
	}
	target := path.Join(path.Dir(file), u.Path)
	if target == ".." || strings.HasPrefix(target, "../") {
		return dest
	}
	frag := ""
	if u.Fragment != "" {
		frag = "#" + u.EscapedFragment()
	}
	if p, ok := pages[target]; ok {
		return p + frag
	}
	kind := "blob"
	if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err == nil && fi.IsDir() {
		kind = "tree"
	}
	if target == "." {
		return RepoURL + frag
	}
	return RepoURL + "/" + kind + "/main/" + target + frag
}
