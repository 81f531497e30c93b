package graphfake

import (
	"sort"
	"strconv"
	"time"
)

// Log is a tenant's sign-in log: Rows records spread over the retention
// window ending at Now, newest first, each generated on demand from Seed.
type Log struct {
	Seed      int64
	Rows      int
	Now       time.Time
	Retention time.Duration
	TenantID  string
}

// step is the mean gap between two records.
func (l *Log) step() time.Duration {
	if l.Rows == 0 {
		return l.Retention
	}
	return l.Retention / time.Duration(l.Rows+1)
}

// At returns the time of record i. Times never increase with i, are whole
// seconds as Graph sends them, and about one record in 40 shares its
// instant with the one before it, as busy tenants' logs do.
func (l *Log) At(i int) time.Time {
	if i > 0 && hash(l.Seed, i, "tie")%40 == 0 {
		return l.At(i - 1)
	}
	step := l.step()
	jitter := time.Duration(hash(l.Seed, i, "jitter") % int(step))
	return l.Now.Add(-time.Duration(i)*step - jitter).Truncate(time.Second)
}

// Record returns record i.
func (l *Log) Record(i int) *Record { return generate(l.Seed, i, l.At(i), l.TenantID) }

// Oldest is the earliest instant the log keeps.
func (l *Log) Oldest() time.Time { return l.Now.Add(-l.Retention) }

// span returns the index range [lo, hi) of the records inside w.
func (l *Log) span(w window) (lo, hi int) {
	hi = l.Rows
	if !w.to.IsZero() {
		lo = sort.Search(l.Rows, func(i int) bool { return !l.At(i).After(w.to) })
	}
	if !w.from.IsZero() {
		hi = sort.Search(l.Rows, func(i int) bool { return l.At(i).Before(w.from) })
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Select returns, newest first, the records for which keep is true.
// Tests use it to compute what Graph should answer.
func (l *Log) Select(keep func(*Record) bool) []*Record {
	var out []*Record
	for i := 0; i < l.Rows; i++ {
		if r := l.Record(i); keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the record with the given id, or nil.
func (l *Log) Find(id string) *Record {
	// The index is the id's last group (see generate).
	if len(id) != 36 {
		return nil
	}
	i, err := strconv.ParseInt(id[24:], 16, 64)
	if err != nil || i < 0 || int(i) >= l.Rows {
		return nil
	}
	if r := l.Record(int(i)); r.ID() == id {
		return r
	}
	return nil
}

// PageJSON is a beta collection page of n records from start, as Graph
// sends it to a client that asks for unknown enum members.
func (l *Log) PageJSON(start, n int) []byte {
	values := make([]map[string]any, 0, n)
	for i := start; i < start+n && i < l.Rows; i++ {
		values = append(values, l.Record(i).wire(true, true, true))
	}
	return encodeJSON(map[string]any{"@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/signIns", "value": values})
}
