package zone

import (
	"io"
	"io/fs"
	"os"

	"github.com/miekg/dns"
)

// record is a parsed record and the line it starts on.
type record struct {
	rr   dns.RR
	line int
}

// Read parses a master file from r and checks it; file names it in errors.
// The zone's origin is the owner of its first record, which must be the
// SOA. $INCLUDE is refused: a zone is one file. Input ends at EOF or at the
// first NUL byte (a zone on a block device is padded with zeros).
func Read(r io.Reader, file string) (*Zone, error) {
	lr := newLineReader(r)
	zp := dns.NewZoneParser(lr, "", file)
	zp.SetIncludeAllowed(false)
	var recs []record
	for {
		lr.mark()
		rr, ok := zp.Next()
		if !ok {
			break
		}
		recs = append(recs, record{rr: rr, line: lr.recordLine()})
	}
	if err := zp.Err(); err != nil {
		return nil, fromParseError(file, err)
	}
	return build(recs, file)
}

// Load reads the master file at path.
func Load(path string) (*Zone, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// LoadFS reads the master file name of fsys (an embed.FS, for zones built
// into the image).
func LoadFS(fsys fs.FS, name string) (*Zone, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, name)
}
