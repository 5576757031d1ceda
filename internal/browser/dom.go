package browser

import (
	"html"
	"regexp"
	"strings"
)

// Tag is one start tag found in a serialized DOM: its attributes, names
// lower-cased and values unescaped.
type Tag map[string]string

var attrRE = regexp.MustCompile(`([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>` + "`" + `]+)))?`)

// Tags returns the attributes of every start tag named name (such as "tr")
// in dom, a DOM as DumpDOM returns it, in document order. It is a scanner
// for tests, not an HTML parser: it does not skip comments or script text.
func Tags(dom, name string) []Tag {
	re := regexp.MustCompile(`(?is)<` + regexp.QuoteMeta(name) + `(\s[^>]*)?>`)
	var out []Tag
	for _, m := range re.FindAllStringSubmatch(dom, -1) {
		t := Tag{}
		for _, a := range attrRE.FindAllStringSubmatch(m[1], -1) {
			t[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3] + a[4])
		}
		out = append(out, t)
	}
	return out
}

// FindTag returns the first start tag named name in dom whose attributes
// include all of attrs (name, value, name, value, ...), and whether there
// is one.
func FindTag(dom, name string, attrs ...string) (Tag, bool) {
	for _, t := range Tags(dom, name) {
		if t.Has(attrs...) {
			return t, true
		}
	}
	return nil, false
}

// Has reports whether t has all of attrs (name, value, name, value, ...).
func (t Tag) Has(attrs ...string) bool {
	for i := 0; i+1 < len(attrs); i += 2 {
		v, ok := t[strings.ToLower(attrs[i])]
		if !ok || v != attrs[i+1] {
			return false
		}
	}
	return len(attrs)%2 == 0
}
