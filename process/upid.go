package process

import "github.com/gomesos/gomesos/process/upid"

// UPID is a process address, `id@ip:port`. See package upid.
type UPID = upid.UPID

// ParseUPID parses `id@host:port`; see upid.Parse.
func ParseUPID(s string) (UPID, error) { return upid.Parse(s) }

// MustParseUPID is ParseUPID for constants; it panics on error.
func MustParseUPID(s string) UPID { return upid.MustParse(s) }

// Any is the wildcard UPID for filters and expectations: it matches every
// sender or receiver.
var Any UPID
