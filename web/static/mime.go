package static

import (
	"mime"
	"net/http"
	"path"
	"strings"
)

// types are the content types of the files a website serves. They come
// first, before the mime package's table, because that table also reads
// the host's /etc/mime.types: the same image would otherwise answer
// differently in a VM, which has no file system, and on a laptop.
var types = map[string]string{
	".html":  "text/html; charset=utf-8",
	".htm":   "text/html; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".json":  "application/json",
	".txt":   "text/plain; charset=utf-8",
	".md":    "text/markdown; charset=utf-8",
	".xml":   "application/xml",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".jpg":   "image/jpeg",
	".jpeg":  "image/jpeg",
	".gif":   "image/gif",
	".webp":  "image/webp",
	".avif":  "image/avif",
	".ico":   "image/vnd.microsoft.icon",
	".woff":  "font/woff",
	".woff2": "font/woff2",
	".wasm":  "application/wasm",
	".pdf":   "application/pdf",
	".bin":   "application/octet-stream",
	".gz":    "application/gzip",
	".zip":   "application/zip",
	".tar":   "application/x-tar",
}

// contentType decides the type of the file name with the given first bytes:
// by extension, else by sniffing the content as browsers do.
func contentType(name string, head []byte) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := types[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return http.DetectContentType(head)
}
