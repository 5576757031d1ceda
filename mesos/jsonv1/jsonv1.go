// Package jsonv1 is the one owner of the JSON form of protobufs that Mesos
// speaks on its v1 HTTP APIs (/api/v1/scheduler): what Mesos's own
// protobuf-to-JSON writer produces and what its JSON-to-protobuf parser
// accepts.
//
// Marshal writes, in field declaration order:
//   - field names exactly as in the .proto (snake_case);
//   - a set field, and an unset optional field that has an explicit
//     default in the .proto and is not deprecated (with that default);
//     a repeated field only when it has elements;
//   - every integer, 32- or 64-bit, as a JSON number (never a string);
//     doubles and floats as numbers; bools as true/false;
//   - enums by value name; bytes in standard base64; strings as JSON
//     strings.
//
// Unmarshal reads the same, and is lenient where Mesos's parser is: 64-bit
// integers as numbers or strings, unknown fields (and unknown enum names)
// ignored, null taken as "not set". Required fields must be present.
package jsonv1

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/gomesos/gomesos/internal/jsonw"
)

// Marshal writes m as Mesos writes a protobuf in JSON.
func Marshal(m proto.Message) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeMessage(&buf, m.ProtoReflect()); err != nil {
		return nil, fmt.Errorf("jsonv1: marshal %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return buf.Bytes(), nil
}

// Unmarshal reads data into m (which it resets first), as Mesos parses
// JSON into a protobuf.
func Unmarshal(data []byte, m proto.Message) error {
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return fmt.Errorf("jsonv1: unmarshal %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	return nil
}

func writeMessage(buf *bytes.Buffer, m protoreflect.Message) error {
	buf.WriteByte('{')
	fields := m.Descriptor().Fields()
	first := true
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !present(m, fd) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		writeString(buf, string(fd.Name()))
		buf.WriteByte(':')
		var err error
		switch {
		case fd.IsMap():
			err = writeMap(buf, fd, m.Get(fd).Map())
		case fd.IsList():
			list := m.Get(fd).List()
			buf.WriteByte('[')
			for j := 0; j < list.Len(); j++ {
				if j > 0 {
					buf.WriteByte(',')
				}
				if err = writeValue(buf, fd, list.Get(j)); err != nil {
					break
				}
			}
			buf.WriteByte(']')
		default:
			err = writeValue(buf, fd, m.Get(fd))
		}
		if err != nil {
			return fmt.Errorf("field %s: %w", fd.Name(), err)
		}
	}
	buf.WriteByte('}')
	return nil
}

// present says whether Mesos writes fd: set, or a non-repeated field with
// an explicit default that is not deprecated.
func present(m protoreflect.Message, fd protoreflect.FieldDescriptor) bool {
	if fd.IsList() {
		return m.Get(fd).List().Len() > 0
	}
	if fd.IsMap() {
		return m.Get(fd).Map().Len() > 0
	}
	if m.Has(fd) {
		return true
	}
	if !fd.HasDefault() {
		return false
	}
	opts, _ := fd.Options().(*descriptorpb.FieldOptions)
	return !opts.GetDeprecated()
}

func writeMap(buf *bytes.Buffer, fd protoreflect.FieldDescriptor, mp protoreflect.Map) error {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	// Sorted by the key's text so that output is deterministic.
	sortKeys(keys)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		writeString(buf, k.String())
		buf.WriteByte(':')
		if err := writeValue(buf, fd.MapValue(), mp.Get(k)); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func writeValue(buf *bytes.Buffer, fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		buf.WriteString(strconv.FormatBool(v.Bool()))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		buf.WriteString(strconv.FormatInt(v.Int(), 10))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		buf.WriteString(strconv.FormatUint(v.Uint(), 10))
	case protoreflect.FloatKind:
		writeFloat(buf, v.Float(), 32)
	case protoreflect.DoubleKind:
		writeFloat(buf, v.Float(), 64)
	case protoreflect.StringKind:
		writeString(buf, v.String())
	case protoreflect.BytesKind:
		writeString(buf, base64.StdEncoding.EncodeToString(v.Bytes()))
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			writeString(buf, string(ev.Name()))
		} else {
			// A number this schema does not name: Mesos could not hold
			// it; write the number rather than lose it.
			buf.WriteString(strconv.FormatInt(int64(v.Enum()), 10))
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return writeMessage(buf, v.Message())
	default:
		return fmt.Errorf("unsupported kind %v", fd.Kind())
	}
	return nil
}

// writeFloat writes f as a JSON number, the shortest form that reads back
// to the same value (15 for 15.0, 0.1 for 0.1). JSON has no NaN or
// infinities: those are written as null, which readers take as unset.
func writeFloat(buf *bytes.Buffer, f float64, bits int) {
	buf.Write(jsonw.AppendFloat(buf.AvailableBuffer(), f, bits))
}

// writeString writes s as a JSON string, without the HTML escaping of
// encoding/json (Mesos writes '<', '>' and '&' as they are).
func writeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

func sortKeys(keys []protoreflect.MapKey) {
	slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return strings.Compare(a.String(), b.String()) })
}
