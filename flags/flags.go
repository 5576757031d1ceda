// Package flags implements Mesos command-line flag semantics for the
// gomesos daemons.
//
// Flags are written --name=value. A boolean flag may also be written --name
// (true) or --no-name (false); every other flag needs the "=value" form, so
// "--work_dir /tmp" is an error. A flag not given on the command line is
// taken from the environment variable MESOS_<NAME> (the name upper-cased),
// if set; the command line wins. A value of the form file://path, from
// either source, is replaced by the contents of that file with surrounding
// white space trimmed. Durations use the Mesos syntax ("10secs", "1.5mins",
// see ParseDuration) and byte sizes the Mesos byte syntax ("2GB", see
// ParseBytes).
//
// Every FlagSet knows --help and --version; Parse reports them as ErrHelp
// and ErrVersion, and Main turns them (and any other error) into output
// and an exit code:
//
//	fs := flags.New("mesos-master", "Runs a Mesos master.")
//	fs.String(&workDir, "work_dir", "", "Where to store the registry.")
//	fs.Duration(&timeout, "registry_fetch_timeout", time.Minute, "...")
//	if exit, code := flags.Main(fs, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); exit {
//		os.Exit(code)
//	}
package flags

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Version is the Mesos version the gomesos daemons report, printed by
// --version as "mesos 1.0.0".
const Version = "1.0.0"

// EnvPrefix is the prefix of the environment variables that supply flag
// values: flag work_dir is read from MESOS_WORK_DIR.
const EnvPrefix = "MESOS_"

// ErrHelp is returned by Parse when --help was given.
var ErrHelp = errors.New("flags: help requested")

// ErrVersion is returned by Parse when --version was given (and --help was
// not).
var ErrVersion = errors.New("flags: version requested")

// Value is a flag's value: Set parses the text given for the flag and
// String writes the current value back as text. A Value whose String
// result, at the time it is defined, is not empty shows that text as its
// default in Usage.
type Value interface {
	Set(string) error
	String() string
}

// BoolValue is a Value that is a boolean flag: it may be given as --name
// (meaning Set("true")) or --no-name (meaning Set("false")), and Usage
// shows it as --[no-]name. Values passed to Var that implement it and
// return true are treated that way.
type BoolValue interface {
	Value
	IsBool() bool
}

// UnknownFlagsError is the error Parse reports for command-line flags that
// were never defined. Names holds each one as written, with its dashes and
// without its value ("--foo", "--no-bar"), in command-line order.
type UnknownFlagsError struct {
	Names []string
}

// Error lists every unknown flag: "unknown flags: --foo, --bar".
func (e *UnknownFlagsError) Error() string {
	if len(e.Names) == 1 {
		return "unknown flag: " + e.Names[0]
	}
	return "unknown flags: " + strings.Join(e.Names, ", ")
}

// flag is one defined flag.
type flag struct {
	name     string
	help     string
	value    Value
	def      string // default shown in Usage; "" shows none
	optional bool   // left out of Values until set
	builtin  bool   // --help and --version: command line only, not in Values
	set      bool
	checks   []func() error // run after each value is set
	noEffect string         // why the flag is accepted but does nothing; "" for a real flag
}

func (f *flag) isBool() bool {
	b, ok := f.value.(BoolValue)
	return ok && b.IsBool()
}

// FlagSet is a set of defined flags and the program they belong to. Define
// flags first, then call Parse once. A FlagSet is not safe for concurrent
// mutation; after Parse, Values, IsSet and Usage may be called from any
// goroutine as long as nothing calls Set.
type FlagSet struct {
	// Version is printed by Main for --version, as "mesos <Version>".
	// New sets it to the package constant Version.
	Version string

	program string
	summary string
	flags   map[string]*flag
	help    bool
	version bool
}

// New returns an empty FlagSet for program (the name shown in Usage and in
// error messages) with a one-paragraph summary for Usage. The set already
// knows the flags --help and --version.
func New(program, summary string) *FlagSet {
	fs := &FlagSet{
		Version: Version,
		program: program,
		summary: summary,
		flags:   make(map[string]*flag),
	}
	fs.define(&flag{name: "help", help: "Prints this help message and exits.", value: boolValue{&fs.help}, def: "false", builtin: true})
	fs.define(&flag{name: "version", help: "Prints the version and exits.", value: boolValue{&fs.version}, def: "false", builtin: true})
	return fs
}

// Program returns the program name given to New.
func (fs *FlagSet) Program() string { return fs.program }

// define adds f, panicking on a programming error in the definition.
func (fs *FlagSet) define(f *flag) {
	switch {
	case f.name == "" || strings.ContainsAny(f.name, "= \t\n") || strings.HasPrefix(f.name, "-"):
		panic(fmt.Sprintf("flags: invalid flag name %q", f.name))
	case strings.HasPrefix(f.name, "no-"):
		panic(fmt.Sprintf("flags: flag name %q clashes with the --no- form of booleans", f.name))
	case fs.flags[f.name] != nil:
		panic(fmt.Sprintf("flags: flag --%s defined twice", f.name))
	}
	fs.flags[f.name] = f
}

// String defines a string flag bound to p, which is set to def now.
// Usage shows def unless it is empty.
func (fs *FlagSet) String(p *string, name, def, help string) {
	*p = def
	fs.define(&flag{name: name, help: help, value: stringValue{p}, def: def})
}

// OptString defines a string flag with no default, bound to p (which is
// left untouched unless the flag is given). Usage shows no default, Values
// leaves the flag out until it is given, and IsSet tells whether it was.
func (fs *FlagSet) OptString(p *string, name, help string) {
	fs.define(&flag{name: name, help: help, value: stringValue{p}, optional: true})
}

// Bool defines a boolean flag bound to p, which is set to def now. It may
// be given as --name, --no-name or --name=true|false.
func (fs *FlagSet) Bool(p *bool, name string, def bool, help string) {
	*p = def
	fs.define(&flag{name: name, help: help, value: boolValue{p}, def: strconv.FormatBool(def)})
}

// Int defines a decimal integer flag bound to p, which is set to def now.
func (fs *FlagSet) Int(p *int, name string, def int, help string) {
	*p = def
	fs.define(&flag{name: name, help: help, value: intValue{p}, def: strconv.Itoa(def)})
}

// Uint defines a non-negative decimal integer flag bound to p, which is set
// to def now.
func (fs *FlagSet) Uint(p *uint, name string, def uint, help string) {
	*p = def
	fs.define(&flag{name: name, help: help, value: uintValue{p}, def: strconv.FormatUint(uint64(def), 10)})
}

// Float64 defines a floating-point flag bound to p, which is set to def
// now.
func (fs *FlagSet) Float64(p *float64, name string, def float64, help string) {
	*p = def
	v := float64Value{p}
	fs.define(&flag{name: name, help: help, value: v, def: v.String()})
}

// Duration defines a duration flag bound to p, which is set to def now.
// Values are read with ParseDuration and shown with FormatDuration; a
// negative value is refused (no daemon flag takes one).
func (fs *FlagSet) Duration(p *time.Duration, name string, def time.Duration, help string) {
	*p = def
	fs.define(&flag{name: name, help: help, value: durationValue{p}, def: FormatDuration(def)})
}

// Bytes defines a byte-size flag bound to p, which is set to def now.
// Values are read with ParseBytes and shown with FormatBytes.
func (fs *FlagSet) Bytes(p *uint64, name string, def uint64, help string) {
	*p = def
	fs.define(&flag{name: name, help: help, value: bytesValue{p}, def: FormatBytes(def)})
}

// Var defines a flag backed by value. Its current String() is the default
// shown by Usage. If value implements BoolValue it is a boolean flag.
func (fs *FlagSet) Var(value Value, name, help string) {
	if value == nil {
		panic(fmt.Sprintf("flags: nil Value for flag --%s", name))
	}
	fs.define(&flag{name: name, help: help, value: value, def: value.String()})
}

// Check adds a check to the flag name, run after each value given for it
// (command line, environment or Set); an error refuses the value, naming
// the flag. See Positive, AtMost and Between for common checks.
func (fs *FlagSet) Check(name string, check func() error) {
	f := fs.flags[name]
	if f == nil {
		panic(fmt.Sprintf("flags: check of undefined flag --%s", name))
	}
	f.checks = append(f.checks, check)
}

// Positive checks that a duration flag is more than zero.
func Positive(p *time.Duration) func() error {
	return func() error {
		if *p <= 0 {
			return fmt.Errorf("must be positive, got %s", FormatDuration(*p))
		}
		return nil
	}
}

// AtMost checks that an unsigned flag is at most max.
func AtMost(p *uint, max uint) func() error {
	return func() error {
		if *p > max {
			return fmt.Errorf("must be at most %d, got %d", max, *p)
		}
		return nil
	}
}

// AtLeast checks that an unsigned flag is at least min.
func AtLeast(p *uint, min uint) func() error {
	return func() error {
		if *p < min {
			return fmt.Errorf("must be at least %d, got %d", min, *p)
		}
		return nil
	}
}

// Between checks that a floating-point flag is within [lo, hi].
func Between(p *float64, lo, hi float64) func() error {
	return func() error {
		if *p < lo || *p > hi {
			return fmt.Errorf("must be between %g and %g, got %g", lo, hi, *p)
		}
		return nil
	}
}

// NoEffect marks the defined flag name as accepted for compatibility
// with Mesos but without effect here: its value is still parsed and
// checked, Usage says so (with why, when not empty), and Ineffective
// lists it when it was given, for the program to warn at start-up.
func (fs *FlagSet) NoEffect(name, why string) {
	f := fs.flags[name]
	if f == nil {
		panic(fmt.Sprintf("flags: NoEffect of undefined flag --%s", name))
	}
	f.noEffect = "Accepted for compatibility, no effect here"
	if why = strings.TrimSpace(why); why != "" {
		f.noEffect += ": " + why
	}
	f.noEffect += "."
}

// Ineffective returns, sorted, the names of the flags marked NoEffect
// that were given (command line, environment or Set).
func (fs *FlagSet) Ineffective() []string {
	var out []string
	for _, name := range fs.names() {
		if f := fs.flags[name]; f.noEffect != "" && f.set {
			out = append(out, name)
		}
	}
	return out
}

// Has reports whether the flag name is defined (--help and --version
// included), for programs that route flags among several sets.
func (fs *FlagSet) Has(name string) bool { return fs.flags[name] != nil }

// IsBool reports whether the defined flag name is a boolean (written
// --name and --no-name).
func (fs *FlagSet) IsBool(name string) bool {
	f := fs.flags[name]
	return f != nil && f.isBool()
}

// IsSet reports whether the flag name was given, on the command line, in
// the environment or through Set. It is false for undefined names.
func (fs *FlagSet) IsSet(name string) bool {
	f := fs.flags[name]
	return f != nil && f.set
}

// Set sets the flag name to value as if it had been given as
// --name=value (including file:// expansion), for programs that configure
// a daemon in-process.
func (fs *FlagSet) Set(name, value string) error {
	f := fs.flags[name]
	if f == nil || f.builtin {
		return &UnknownFlagsError{Names: []string{"--" + name}}
	}
	return fs.apply(f, value, "")
}

// Values returns every flag's effective value as text, keyed by flag name
// without dashes, in the form Mesos's /flags endpoint reports. Optional
// flags that were not given, and --help and --version, are left out.
func (fs *FlagSet) Values() map[string]string {
	m := make(map[string]string, len(fs.flags))
	for name, f := range fs.flags {
		if f.builtin || (f.optional && !f.set) {
			continue
		}
		m[name] = f.value.String()
	}
	return m
}

// Parse sets the flags from args (the command line without the program
// name) and then, for flags the command line did not give, from environ
// (entries "KEY=value" as from os.Environ; MESOS_<NAME> sets flag name).
// Unknown MESOS_* variables are ignored.
//
// If --help is on the command line Parse returns ErrHelp at once, and
// otherwise ErrVersion for --version, whatever else is wrong. Other
// problems are all reported together (joined with errors.Join): an
// argument that is not a flag, a non-boolean flag without "=value",
// --no- on a non-boolean, a flag given twice, an unreadable file:// value,
// a value its flag cannot parse, and an *UnknownFlagsError naming every
// unknown flag. An argument "--" ends the flags; nothing may follow it.
func (fs *FlagSet) Parse(args, environ []string) error {
	if requested(args, "help") {
		return ErrHelp
	}
	if requested(args, "version") {
		return ErrVersion
	}

	var errs []error
	var unknown []string
	given := make(map[string]bool)
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			for _, rest := range args[i+1:] {
				errs = append(errs, fmt.Errorf("unexpected argument %q after \"--\"", rest))
			}
			break
		}
		body, ok := strings.CutPrefix(arg, "--")
		name, value, hasValue := strings.Cut(body, "=")
		if !ok || name == "" || strings.HasPrefix(name, "-") {
			errs = append(errs, fmt.Errorf("unexpected argument %q: flags are written --name=value", arg))
			continue
		}
		f, negated := fs.flags[name], false
		if f == nil {
			if base, ok := strings.CutPrefix(name, "no-"); ok && fs.flags[base] != nil {
				f, negated = fs.flags[base], true
			}
		}
		if f == nil {
			unknown = append(unknown, "--"+name)
			continue
		}
		if given[f.name] {
			errs = append(errs, fmt.Errorf("flag --%s given more than once", f.name))
			continue
		}
		given[f.name] = true
		switch {
		case negated && !f.isBool():
			errs = append(errs, fmt.Errorf("flag --%s is not a boolean, so it cannot be written --no-%s", f.name, f.name))
			continue
		case negated && hasValue:
			errs = append(errs, fmt.Errorf("flag --no-%s takes no value, got %q", f.name, value))
			continue
		case negated:
			value = "false"
		case !hasValue && f.isBool():
			value = "true"
		case !hasValue:
			errs = append(errs, fmt.Errorf("flag --%s needs a value: write --%s=VALUE", f.name, f.name))
			continue
		}
		if err := fs.apply(f, value, ""); err != nil {
			errs = append(errs, err)
		}
	}

	env := make(map[string]string)
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			env[k] = v // a later duplicate wins, as with os/exec
		}
	}
	for _, name := range fs.names() {
		f := fs.flags[name]
		if f.builtin || given[name] {
			continue
		}
		key := EnvPrefix + strings.ToUpper(name)
		if v, ok := env[key]; ok {
			if err := fs.apply(f, v, key); err != nil {
				errs = append(errs, err)
			}
		}
	}

	if len(unknown) > 0 {
		errs = append(errs, &UnknownFlagsError{Names: unknown})
	}
	return errors.Join(errs...)
}

// requested reports whether the command line, up to any "--", turns on
// the boolean flag name.
func requested(args []string, name string) bool {
	for _, arg := range args {
		if arg == "--" {
			return false
		}
		n, v, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !strings.HasPrefix(arg, "--") || n != name {
			continue
		}
		if !hasValue {
			return true
		}
		if b, err := strconv.ParseBool(v); err == nil && b {
			return true
		}
	}
	return false
}

// apply expands a file:// value and sets f. env names the environment
// variable the value came from, or is empty for the command line.
func (fs *FlagSet) apply(f *flag, value, env string) error {
	from := ""
	if env != "" {
		from = " (from " + env + ")"
	}
	text := value
	if path, ok := strings.CutPrefix(value, "file://"); ok {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("flag --%s%s: reading value from file %q: %w", f.name, from, path, err)
		}
		text = strings.TrimSpace(string(data))
	}
	if err := f.value.Set(text); err != nil {
		return fmt.Errorf("invalid value %q for flag --%s%s: %w", value, f.name, from, err)
	}
	for _, check := range f.checks {
		if err := check(); err != nil {
			return fmt.Errorf("invalid value %q for flag --%s%s: %w", value, f.name, from, err)
		}
	}
	f.set = true
	return nil
}

// names returns the defined flag names, sorted.
func (fs *FlagSet) names() []string {
	names := make([]string, 0, len(fs.flags))
	for name := range fs.flags {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// usageColumn is the widest flag column Usage pads to; longer flags put
// their help on the next line.
const usageColumn = 32

// Usage returns the help text: a "Usage: <program> [options]" line, the
// summary, and every flag sorted by name with its help and its default
// ("(default: 10secs)"). Booleans are shown as --[no-]name, others as
// --name=VALUE.
func (fs *FlagSet) Usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s [options]\n\n", fs.program)
	if s := strings.TrimSpace(fs.summary); s != "" {
		b.WriteString(s)
		b.WriteString("\n\n")
	}
	names := fs.names()
	labels := make([]string, len(names))
	width := 0
	for i, name := range names {
		if fs.flags[name].isBool() {
			labels[i] = "--[no-]" + name
		} else {
			labels[i] = "--" + name + "=VALUE"
		}
		if l := len(labels[i]); l <= usageColumn && l > width {
			width = l
		}
	}
	indent := strings.Repeat(" ", 2+width+2)
	for i, name := range names {
		f := fs.flags[name]
		help := strings.TrimSpace(f.help)
		if f.noEffect != "" {
			if help != "" {
				help += " "
			}
			help += f.noEffect
		}
		if f.def != "" {
			if help != "" {
				help += " "
			}
			help += "(default: " + f.def + ")"
		}
		b.WriteString("  ")
		b.WriteString(labels[i])
		if help == "" {
			b.WriteString("\n")
			continue
		}
		lines := strings.Split(help, "\n")
		if len(labels[i]) > width {
			b.WriteString("\n")
			b.WriteString(indent)
		} else {
			b.WriteString(strings.Repeat(" ", width-len(labels[i])+2))
		}
		for j, line := range lines {
			if j > 0 {
				b.WriteString("\n")
				b.WriteString(indent)
			}
			b.WriteString(strings.TrimSpace(line))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Main parses the command line and environment into fs and handles the
// outcomes every daemon handles alike. On success it returns exit false
// and the program carries on. For --help it writes Usage to stdout, for
// --version it writes "mesos <fs.Version>" to stdout, and both return exit
// true with code 0. For any other error it writes the error and a hint to
// run --help to stderr and returns exit true with code 1:
//
//	if exit, code := flags.Main(fs, os.Args[1:], os.Environ(), os.Stdout, os.Stderr); exit {
//		os.Exit(code)
//	}
func Main(fs *FlagSet, args, environ []string, stdout, stderr io.Writer) (exit bool, code int) {
	err := fs.Parse(args, environ)
	switch {
	case err == nil:
		return false, 0
	case errors.Is(err, ErrHelp):
		io.WriteString(stdout, fs.Usage())
		return true, 0
	case errors.Is(err, ErrVersion):
		fmt.Fprintf(stdout, "mesos %s\n", fs.Version)
		return true, 0
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "%s: %s\n", fs.program, line)
	}
	fmt.Fprintf(stderr, "Run '%s --help' to list the flags.\n", fs.program)
	return true, 1
}
