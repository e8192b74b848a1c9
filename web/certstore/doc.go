// Package certstore keeps small named values, an ACME account key and the
// certificates issued to it, on a raw block device, and is an
// autocert.Cache over it, so that a unikernel with no file system keeps its
// certificates across restarts and does not ask its CA again.
//
// The device is a log, not a table: values are appended as records, each
// with a length and a CRC-32C, aligned to the device's sectors. That makes
// the crash cases simple: a write torn by a crash leaves a record whose
// checksum fails, which the next open ignores (the value it was replacing
// is still there, earlier in the log), and a damaged record is skipped,
// with a log line, without losing the records after it. Nothing is ever
// overwritten in place while it is the only copy.
//
// The device is split into two halves. One is active; records are appended
// to it. When it is full, the live values are copied to the other half,
// which is then made active by writing its header, with a higher
// generation, last: a crash during the copy leaves the old half active and
// whole. When the live values alone do not fit, Put fails with ErrFull and
// the store is unchanged. Open formats a blank (zeroed) device, and refuses
// one that holds anything else, so that a disk given by mistake is not
// overwritten.
//
// Layout (little-endian), in sectors of max(512, the device's sector size):
//
//	half h (h = 0, 1) at h*size/2:
//	  sector 0: header   "MGNACERT" version:u32 sector:u32 gen:u64 half:u64 id:u64 crc:u32
//	  then records, each starting on a sector:
//	    magic:u32 crc:u32 id:u64 seq:u64 kind:u8 0:u8 keylen:u16 vallen:u32 key val
//
// The record's CRC covers everything after it. id, drawn at random each
// time a half is formatted or compacted into, ties a record to that use of
// the half, so records left over from an earlier use, or from a compaction
// cut short by a crash, are never taken for current ones; seq orders the
// writes of one key.
package certstore
