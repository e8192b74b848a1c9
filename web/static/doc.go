// Package static serves a tree of files, an fs.FS, over HTTP the way a
// careful web server does: correct content types, strong ETags, conditional
// and range requests, precompressed variants chosen by Accept-Encoding, and a
// 404 page of the site's own.
//
// It exists because a unikernel's files are embedded in its image
// (go:embed) and never change while it runs, so everything a server would
// otherwise compute per request, or stat the disk for, can be computed once
// when the handler is made: New reads every file once, hashes it for its
// ETag, decides its content type and pairs it with its precompressed
// variants (NAME.br, NAME.gz, written beside NAME at build time). A request
// is then a map lookup, a choice of representation and http.ServeContent,
// which implements If-None-Match, If-Modified-Since, If-Range and Range
// exactly as net/http's own file server does. The request of nearly every
// client, for a whole file kept in memory and without conditions, is
// answered directly with the header ServeContent would write, precomputed.
//
// Compression is never done at run time: a variant is served only when it
// exists in the tree and is smaller than the file. Each representation has
// its own ETag (a hash of its own bytes), as RFC 9110 requires of strong
// validators, and every response of a file that has variants carries
// Vary: Accept-Encoding.
package static
