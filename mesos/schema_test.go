package mesos_test

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/gomesos/gomesos/mesos"
	"github.com/gomesos/gomesos/mesos/allocatorpb"
	"github.com/gomesos/gomesos/mesos/containerizerpb"
	"github.com/gomesos/gomesos/mesos/executorpb"
	"github.com/gomesos/gomesos/mesos/maintenancepb"
	"github.com/gomesos/gomesos/mesos/messages"
	"github.com/gomesos/gomesos/mesos/quotapb"
	"github.com/gomesos/gomesos/mesos/schedulerpb"
	"github.com/gomesos/gomesos/mesos/statepb"
	"github.com/gomesos/gomesos/mesos/v1/agentpb"
	v1executorpb "github.com/gomesos/gomesos/mesos/v1/executorpb"
	"github.com/gomesos/gomesos/mesos/v1/masterpb"
	"github.com/gomesos/gomesos/mesos/v1/mesospb"
	v1schedulerpb "github.com/gomesos/gomesos/mesos/v1/schedulerpb"
)

// ourFiles lists every generated file descriptor of the schema layer.
var ourFiles = []protoreflect.FileDescriptor{
	mesos.File_mesos_mesos_proto,
	mesos.File_mesos_acls_proto,
	messages.File_mesos_messages_messages_proto,
	messages.File_mesos_messages_authentication_proto,
	messages.File_mesos_messages_flags_proto,
	messages.File_mesos_messages_registry_proto,
	schedulerpb.File_mesos_schedulerpb_scheduler_proto,
	executorpb.File_mesos_executorpb_executor_proto,
	allocatorpb.File_mesos_allocatorpb_allocator_proto,
	maintenancepb.File_mesos_maintenancepb_maintenance_proto,
	quotapb.File_mesos_quotapb_quota_proto,
	statepb.File_mesos_statepb_state_proto,
	mesospb.File_mesos_v1_mesospb_mesos_proto,
	v1schedulerpb.File_mesos_v1_schedulerpb_scheduler_proto,
	v1executorpb.File_mesos_v1_executorpb_executor_proto,
	// Mesos 0.25's external containerizer protocol (gone by 1.0):
	// checked against testdata/schema-0.25-containerizer.txt.
	containerizerpb.File_mesos_containerizerpb_containerizer_proto,
}

// operatorFiles are the v1 operator API's files: a subset of Mesos 1.4's,
// checked against testdata/schema-operator-1.4.txt.
var operatorFiles = []protoreflect.FileDescriptor{
	masterpb.File_mesos_v1_masterpb_master_proto,
	agentpb.File_mesos_v1_agentpb_agent_proto,
}

// schemaLines renders the wire-relevant facts of files, one per line:
//
//	mesos.TaskInfo message
//	mesos.TaskInfo.name 1 required string
//	mesos.FrameworkInfo.role 6 optional string default="*"
//	mesos.Task.status_update_state 9 optional mesos.TaskState zero=TASK_STAGING
//	mesos.TaskState enum
//	mesos.TaskState.TASK_RUNNING = 1
//
// testdata/schema.txt was produced by this same function run over
// descriptors that protoc built from Apache Mesos 1.0.0's own files.
func schemaLines(files []protoreflect.FileDescriptor) []string {
	var out []string
	var enum func(protoreflect.EnumDescriptor)
	enum = func(e protoreflect.EnumDescriptor) {
		out = append(out, string(e.FullName())+" enum")
		vals := e.Values()
		for i := 0; i < vals.Len(); i++ {
			v := vals.Get(i)
			out = append(out, fmt.Sprintf("%s.%s = %d", e.FullName(), v.Name(), v.Number()))
		}
	}
	var message func(protoreflect.MessageDescriptor)
	message = func(m protoreflect.MessageDescriptor) {
		out = append(out, string(m.FullName())+" message")
		fields := m.Fields()
		for i := 0; i < fields.Len(); i++ {
			out = append(out, fieldLine(fields.Get(i)))
		}
		for i := 0; i < m.Enums().Len(); i++ {
			enum(m.Enums().Get(i))
		}
		for i := 0; i < m.Messages().Len(); i++ {
			message(m.Messages().Get(i))
		}
		if m.Oneofs().Len() > 0 || m.Extensions().Len() > 0 || m.ExtensionRanges().Len() > 0 {
			out = append(out, string(m.FullName())+" has oneofs or extensions")
		}
	}
	for _, f := range files {
		for i := 0; i < f.Enums().Len(); i++ {
			enum(f.Enums().Get(i))
		}
		for i := 0; i < f.Messages().Len(); i++ {
			message(f.Messages().Get(i))
		}
		if f.Extensions().Len() > 0 || f.Services().Len() > 0 {
			out = append(out, string(f.Path())+" has extensions or services")
		}
	}
	sort.Strings(out)
	return out
}

func fieldLine(fd protoreflect.FieldDescriptor) string {
	var typ string
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		typ = string(fd.Message().FullName())
		if fd.Kind() == protoreflect.GroupKind {
			typ = "group " + typ
		}
	case protoreflect.EnumKind:
		typ = string(fd.Enum().FullName())
	default:
		typ = fd.Kind().String()
	}
	s := fmt.Sprintf("%s %d %s %s", fd.FullName(), fd.Number(), fd.Cardinality(), typ)
	if fd.IsPacked() {
		s += " packed"
	}
	if fd.HasDefault() {
		s += " default=" + defaultString(fd)
	} else if fd.Kind() == protoreflect.EnumKind && !fd.IsList() {
		// proto2's implicit default is the first value declared, so the
		// order of values matters to getters even though not to bytes.
		s += " zero=" + string(fd.Enum().Values().ByNumber(fd.Default().Enum()).Name())
	}
	return s
}

func defaultString(fd protoreflect.FieldDescriptor) string {
	v := fd.Default()
	switch fd.Kind() {
	case protoreflect.StringKind:
		return strconv.Quote(v.String())
	case protoreflect.BytesKind:
		return strconv.Quote(string(v.Bytes()))
	case protoreflect.EnumKind:
		return string(fd.DefaultEnumValue().Name())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	default:
		return v.String()
	}
}

func readSchema(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestSchemaMatchesMesos compares every message, field and enum value of
// our files with the facts recorded from Mesos 1.0.0: nothing missing,
// nothing extra, nothing renumbered or retyped.
func TestSchemaMatchesMesos(t *testing.T) {
	want := readSchema(t, "testdata/schema.txt")
	want = append(want, readSchema(t, "testdata/schema-0.25-containerizer.txt")...)
	got := schemaLines(ourFiles)

	wantSet := make(map[string]bool, len(want))
	for _, l := range want {
		wantSet[l] = true
	}
	gotSet := make(map[string]bool, len(got))
	for _, l := range got {
		gotSet[l] = true
	}
	for _, l := range want {
		if !gotSet[l] {
			t.Errorf("missing or different from Mesos 1.0: %s", l)
		}
	}
	for _, l := range got {
		if !wantSet[l] {
			t.Errorf("not in Mesos 1.0: %s", l)
		}
	}
	if len(want) < 1000 {
		t.Errorf("schema.txt has only %d lines; truncated?", len(want))
	}
}

// TestAllSchemaFilesChecked makes sure a .proto file added under mesos/
// is also added to ourFiles (and so to the schema check).
func TestAllSchemaFilesChecked(t *testing.T) {
	listed := make(map[string]bool)
	for _, f := range append(append([]protoreflect.FileDescriptor{}, ourFiles...), operatorFiles...) {
		listed[f.Path()] = true
	}
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(f.Path(), "mesos/") && !listed[f.Path()] {
			t.Errorf("%s is registered but not in ourFiles", f.Path())
		}
		return true
	})
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".proto") && !listed["mesos/"+filepath.ToSlash(path)] {
			t.Errorf("%s exists but is not in ourFiles", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOperatorSchemaWithinMesos checks that every message, field and enum
// value of the operator API's files is Mesos 1.4's, with its number, label
// and type, and that every enum we declare is whole (a call type we do not serve is
// still named, so that it is answered 501 rather than read as UNKNOWN).
func TestOperatorSchemaWithinMesos(t *testing.T) {
	want := readSchema(t, "testdata/schema-operator-1.4.txt")
	wantSet := make(map[string]bool, len(want))
	for _, l := range want {
		wantSet[l] = true
	}
	got := schemaLines(operatorFiles)
	gotSet := make(map[string]bool, len(got))
	for _, l := range got {
		gotSet[l] = true
		if !wantSet[l] {
			t.Errorf("not in Mesos 1.4: %s", l)
		}
	}
	for _, l := range want {
		name, _, isValue := strings.Cut(l, " = ")
		if !isValue {
			continue
		}
		enum := name[:strings.LastIndexByte(name, '.')]
		if gotSet[enum+" enum"] && !gotSet[l] {
			t.Errorf("enum value missing: %s", l)
		}
	}
}
