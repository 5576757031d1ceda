package flags

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// durationUnits are the Mesos duration suffixes, largest first. Parsing
// tries them in this order, so "mins" is matched before "ns" and "secs"
// before "s"-less Go forms.
var durationUnits = []struct {
	suffix string
	unit   int64
}{
	{"weeks", int64(7 * 24 * time.Hour)},
	{"days", int64(24 * time.Hour)},
	{"hrs", int64(time.Hour)},
	{"mins", int64(time.Minute)},
	{"secs", int64(time.Second)},
	{"ms", int64(time.Millisecond)},
	{"us", int64(time.Microsecond)},
	{"ns", int64(time.Nanosecond)},
}

// byteUnits are the Mesos byte suffixes, largest first (powers of 1024).
var byteUnits = []struct {
	suffix string
	unit   uint64
}{
	{"TB", 1 << 40},
	{"GB", 1 << 30},
	{"MB", 1 << 20},
	{"KB", 1 << 10},
	{"B", 1},
}

// errOutOfRange reports a duration or byte size that does not fit.
var errOutOfRange = errors.New("out of range")

// maxExponentDigits bounds the exponent of a number such as "1e3secs", so a
// hostile input cannot make the exact arithmetic below allocate without
// limit.
const maxExponentDigits = 3

// ParseDuration parses a duration written the Mesos way, a decimal number
// followed by one of ns, us, ms, secs, mins, hrs, days or weeks ("10secs",
// "1.5mins", "500ms", "2weeks"). Anything else is handed to
// time.ParseDuration, so Go forms such as "10s" and "1h30m" work too.
// Fractions are computed exactly and truncated to whole nanoseconds;
// negative durations are accepted, as Mesos does.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("duration %q: empty", s)
	}
	for _, u := range durationUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		num = strings.TrimSpace(num)
		if !isDecimal(num) {
			continue
		}
		n, err := scaleDecimal(num, big.NewInt(u.unit))
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		if !n.IsInt64() {
			return 0, fmt.Errorf("duration %q: %w", s, errOutOfRange)
		}
		return time.Duration(n.Int64()), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a number followed by one of ns, us, ms, secs, mins, hrs, days, weeks", s)
	}
	return d, nil
}

// FormatDuration writes d the way Mesos prints durations: in the largest
// unit the duration reaches, with a decimal fraction when needed
// (10*time.Second is "10secs", 90*time.Second is "1.5mins", 0 is "0ns").
// Unlike Mesos, which rounds to 15 significant digits, the result is always
// exact: when the fraction in a unit would not terminate (100 seconds in
// minutes), the next smaller unit is used ("100secs"). ParseDuration reads
// every result back to the same value.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0ns"
	}
	sign := ""
	n := uint64(d)
	if d < 0 {
		sign = "-"
		n = uint64(-(d + 1)) + 1 // safe for math.MinInt64
	}
	for _, u := range durationUnits {
		unit := uint64(u.unit)
		if n < unit {
			continue
		}
		whole, rem := n/unit, n%unit
		if rem != 0 && !terminates(rem, unit) {
			continue
		}
		var b strings.Builder
		b.WriteString(sign)
		b.WriteString(strconv.FormatUint(whole, 10))
		if rem != 0 {
			b.WriteByte('.')
			for rem != 0 { // rem < unit <= 1 week, so rem*10 cannot overflow
				rem *= 10
				b.WriteByte(byte('0' + rem/unit))
				rem %= unit
			}
		}
		b.WriteString(u.suffix)
		return b.String()
	}
	panic("unreachable: every duration is a whole number of nanoseconds")
}

// ParseBytes parses a byte size written the Mesos way, a non-negative
// decimal number followed by B, KB, MB, GB or TB, where a kilobyte is 1024
// bytes ("100B", "512MB", "1.5GB"). Unit letters are matched without regard
// to case. Fractions are computed exactly and truncated to whole bytes.
func ParseBytes(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	for _, u := range byteUnits {
		if len(t) < len(u.suffix) || !strings.EqualFold(t[len(t)-len(u.suffix):], u.suffix) {
			continue
		}
		num := strings.TrimSpace(t[:len(t)-len(u.suffix)])
		if !isDecimal(num) {
			break
		}
		n, err := scaleDecimal(num, new(big.Int).SetUint64(u.unit))
		if err != nil {
			return 0, fmt.Errorf("bytes %q: %w", s, err)
		}
		if n.Sign() < 0 {
			return 0, fmt.Errorf("bytes %q: negative", s)
		}
		if !n.IsUint64() {
			return 0, fmt.Errorf("bytes %q: %w", s, errOutOfRange)
		}
		return n.Uint64(), nil
	}
	return 0, fmt.Errorf("bytes %q: want a number followed by one of B, KB, MB, GB, TB", s)
}

// FormatBytes writes n the way Mesos prints byte sizes: in the largest unit
// that divides it exactly (2<<30 is "2GB", 1536 is "1536B", 0 is "0B").
func FormatBytes(n uint64) string {
	for _, u := range byteUnits {
		if n >= u.unit && n%u.unit == 0 {
			return strconv.FormatUint(n/u.unit, 10) + u.suffix
		}
	}
	return "0B"
}

// isDecimal reports whether s is a plain decimal number: an optional sign,
// digits with at most one decimal point (at least one digit in all), and an
// optional short exponent.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits, dot := 0, false
	for ; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !dot {
			dot = true
		} else {
			break
		}
	}
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	exp := s[i:]
	if exp == "" || len(exp) > maxExponentDigits {
		return false
	}
	for j := 0; j < len(exp); j++ {
		if exp[j] < '0' || exp[j] > '9' {
			return false
		}
	}
	return true
}

// scaleDecimal returns num*unit truncated toward zero, computed exactly.
// num must satisfy isDecimal.
func scaleDecimal(num string, unit *big.Int) (*big.Int, error) {
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return nil, fmt.Errorf("bad number %q", num)
	}
	r.Mul(r, new(big.Rat).SetInt(unit))
	q := new(big.Int).Quo(r.Num(), r.Denom())
	if q.BitLen() > 64 {
		return nil, errOutOfRange
	}
	return q, nil
}

// terminates reports whether rem/unit has a finite decimal expansion, that
// is whether the reduced denominator has no prime factors other than 2 and 5.
func terminates(rem, unit uint64) bool {
	a, b := rem, unit
	for b != 0 {
		a, b = b, a%b
	}
	q := unit / a
	for q%2 == 0 {
		q /= 2
	}
	for q%5 == 0 {
		q /= 5
	}
	return q == 1
}

// The value types below adapt Go variables to the Value interface.

type stringValue struct{ p *string }

func (v stringValue) Set(s string) error { *v.p = s; return nil }
func (v stringValue) String() string     { return *v.p }

type boolValue struct{ p *bool }

func (v boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("want true or false")
	}
	*v.p = b
	return nil
}
func (v boolValue) String() string { return strconv.FormatBool(*v.p) }
func (v boolValue) IsBool() bool   { return true }

type intValue struct{ p *int }

func (v intValue) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, strconv.IntSize)
	if err != nil {
		return numError(err)
	}
	*v.p = int(n)
	return nil
}
func (v intValue) String() string { return strconv.Itoa(*v.p) }

type uintValue struct{ p *uint }

func (v uintValue) Set(s string) error {
	n, err := strconv.ParseUint(s, 10, strconv.IntSize)
	if err != nil {
		return numError(err)
	}
	*v.p = uint(n)
	return nil
}
func (v uintValue) String() string { return strconv.FormatUint(uint64(*v.p), 10) }

type float64Value struct{ p *float64 }

func (v float64Value) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return numError(err)
	}
	if math.IsNaN(f) {
		return errors.New("not a number")
	}
	*v.p = f
	return nil
}
func (v float64Value) String() string { return strconv.FormatFloat(*v.p, 'g', -1, 64) }

type durationValue struct{ p *time.Duration }

func (v durationValue) Set(s string) error {
	d, err := ParseDuration(s)
	if err != nil {
		return err
	}
	if d < 0 {
		return fmt.Errorf("duration %q: must not be negative", s)
	}
	*v.p = d
	return nil
}
func (v durationValue) String() string { return FormatDuration(*v.p) }

type bytesValue struct{ p *uint64 }

func (v bytesValue) Set(s string) error {
	n, err := ParseBytes(s)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}
func (v bytesValue) String() string { return FormatBytes(*v.p) }

// numError strips strconv's wrapper, whose text repeats the function name
// and the input, leaving strconv.ErrSyntax or strconv.ErrRange.
func numError(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}
