package zone

import (
	"errors"
	"io"
)

// ReadBlocks parses the master file on a block device (or a disk image)
// of size bytes, read in whole blocks of blockSize bytes, as devices are:
// the file is the start of the device, padded with NUL bytes to its end.
// name names it in errors ("name:line: reason").
func ReadBlocks(dev io.ReaderAt, size int64, blockSize int, name string) (*Zone, error) {
	if blockSize <= 0 || size%int64(blockSize) != 0 {
		return nil, errors.New(name + ": size is not a whole number of blocks")
	}
	chunk := max(blockSize, (64<<10)/blockSize*blockSize)
	return Read(&blockReader{dev: dev, size: size, chunk: make([]byte, chunk)}, name)
}

// blockReader reads a device sequentially in aligned chunks.
type blockReader struct {
	dev   io.ReaderAt
	size  int64
	off   int64  // device offset of the next chunk
	chunk []byte // the buffer chunks are read into
	buf   []byte // unread bytes of the current chunk
}

func (r *blockReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if r.off >= r.size {
			return 0, io.EOF
		}
		n := int(min(int64(len(r.chunk)), r.size-r.off))
		m, err := r.dev.ReadAt(r.chunk[:n], r.off)
		if m < n && err == nil {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && !(err == io.EOF && m == n) {
			return 0, err
		}
		r.off += int64(n)
		r.buf = r.chunk[:n]
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
