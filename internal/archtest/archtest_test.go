package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The rules of DESIGN.md, checked over the module's source. Each finding
// names the file and line and says what to do instead.

// componentDirs are the packages (with their subpackages) that hold the
// daemons' and drivers' logic: their time comes from the runtime's Clock
// and their asynchronous results come home through their mailbox.
var componentDirs = []string{"master", "slave", "executor", "scheduler", "containerizer", "detector"}

// wallTime are the functions of package time that read or wait on the
// wall clock.
var wallTime = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true,
	"AfterFunc": true, "NewTimer": true, "NewTicker": true, "Tick": true,
}

// goroutineEdges are the only functions in component packages allowed to
// start a goroutine: each sits at an operating-system edge that has no
// future to return (a blocking system call), and completes a promise or
// closes a channel; none posts back into a process. Keyed by
// "dir/file.go:func".
var goroutineEdges = map[string]string{
	"containerizer/containerizer.go:osEdge":           "the Mesos containerizer's blocking kernel work (fork/exec, waitpid, cgroups); it completes the futures it returned",
	"containerizer/cgroups/oom_linux.go:OOMListen":    "a blocking read of the cgroup's OOM eventfd; it closes a channel",
	"containerizer/docker/docker.go:osEdge":           "the Docker containerizer's blocking Engine API calls; they complete the futures it returned",
	"containerizer/docker/docker.go:logsEdge":         "the docker runner's (an OS process of its own) copy of a container's log stream and its wait",
	"containerizer/external/external.go:osEdge":       "the external containerizer's invocations of its program (fork/exec, pipes, waitpid); they complete the futures it returned",
	"detector/zookeeper.go:Connect":                   "the ZooKeeper client's session events; they complete futures",
	"detector/zookeeper.go:zkContender.Contend":       "ZooKeeper calls block; the candidacy completes its futures",
	"detector/zookeeper.go:Client.Detector":           "ZooKeeper watches block; detections complete futures",
	"executor/command.go:CommandExecutor.LaunchTask":  "waitpid of the task's command in the command executor's own OS process; it reports through the driver's public, goroutine-safe API as any executor does",
	"executor/command.go:CommandExecutor.checkHealth": "a health check (a command or an HTTP GET) blocks; its result goes out through the driver's public, goroutine-safe API as any executor's updates do",
	"executor/run.go:RunCommandExecutor":              "the mesos-executor binary's main waits for its driver to end",
	"executor/agent.go:ioEdge":                        "an HTTP executor's blocking calls to the slave's /api/v1/executor and reads of its event stream; they complete the futures the Agent returned",
}

// wallTimeEdges are the only functions in component packages allowed to
// read wall time, keyed like goroutineEdges.
var wallTimeEdges = map[string]string{
	"master/allocator/bench.go:MeasureCycle": "a benchmark measures real time",
}

// testingImporters may import package testing outside _test.go files:
// test harnesses, never linked into a daemon.
func testingImporter(dir string) bool {
	return dir == "tests" || strings.HasPrefix(dir, "tests/") ||
		strings.HasSuffix(dir, "test") // process/processtest, internal/zktest, ...
}

type file struct {
	dir  string // slash-separated, relative to the module root
	name string
	fset *token.FileSet
	ast  *ast.File
}

func (f file) key(fn string) string { return f.dir + "/" + f.name + ":" + fn }

func (f file) pos(p token.Pos) string {
	return fmt.Sprintf("%s/%s:%d", f.dir, f.name, f.fset.Position(p).Line)
}

// sources parses every non-test Go file of the module, skipping generated
// protobuf code.
func sources(t *testing.T) []file {
	t.Helper()
	root := moduleRoot(t)
	var out []file
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "vendor" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.HasSuffix(path, ".pb.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		out = append(out, file{dir: filepath.ToSlash(rel), name: filepath.Base(path), fset: fset, ast: f})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 50 {
		t.Fatalf("found only %d source files under %s: is this the module root?", len(out), root)
	}
	return out
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func isComponent(dir string) bool {
	for _, c := range componentDirs {
		if dir == c || strings.HasPrefix(dir, c+"/") {
			return true
		}
	}
	return false
}

// importName returns the name under which f imports path, or "".
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
}

// inFuncs calls visit for every node of f with the name of the enclosing
// top-level function ("Type.Method" for methods, "" at package level).
func inFuncs(f *ast.File, visit func(fn string, n ast.Node)) {
	for _, d := range f.Decls {
		name := ""
		if fd, ok := d.(*ast.FuncDecl); ok {
			name = fd.Name.Name
			if fd.Recv != nil && len(fd.Recv.List) == 1 {
				name = recvType(fd.Recv.List[0].Type) + "." + name
			}
		}
		ast.Inspect(d, func(n ast.Node) bool {
			if n != nil {
				visit(name, n)
			}
			return true
		})
	}
}

func recvType(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return recvType(x.X)
	case *ast.IndexExpr:
		return recvType(x.X)
	case *ast.IndexListExpr:
		return recvType(x.X)
	case *ast.Ident:
		return x.Name
	}
	return "?"
}

func report(t *testing.T, what string, findings []string) {
	t.Helper()
	if len(findings) == 0 {
		return
	}
	sort.Strings(findings)
	t.Errorf("%s:\n  %s", what, strings.Join(findings, "\n  "))
}

func TestProtoactorOnlyInActor(t *testing.T) {
	var bad []string
	for _, f := range sources(t) {
		if f.dir == "actor" || strings.HasPrefix(f.dir, "actor/") {
			continue
		}
		for _, imp := range f.ast.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/asynkron/protoactor-go") {
				bad = append(bad, f.pos(imp.Pos())+" imports "+p)
			}
		}
	}
	report(t, "protoactor-go is imported outside actor/ (use the process package)", bad)
}

func TestNoTestingInProductionCode(t *testing.T) {
	var bad []string
	for _, f := range sources(t) {
		if testingImporter(f.dir) {
			continue
		}
		if importName(f.ast, "testing") != "" {
			bad = append(bad, f.dir+"/"+f.name)
		}
	}
	report(t, "production code imports testing (move the helper to a *test package or tests/)", bad)
}

func TestNoWallTimeInComponents(t *testing.T) {
	var bad []string
	used := map[string]bool{}
	for _, f := range sources(t) {
		if !isComponent(f.dir) {
			continue
		}
		name := importName(f.ast, "time")
		if name == "" {
			continue
		}
		inFuncs(f.ast, func(fn string, n ast.Node) {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok || !wallTime[sel.Sel.Name] {
				return
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != name {
				return
			}
			if _, ok := wallTimeEdges[f.key(fn)]; ok {
				used[f.key(fn)] = true
				return
			}
			bad = append(bad, fmt.Sprintf("%s: time.%s in %s", f.pos(sel.Pos()), sel.Sel.Name, fn))
		})
	}
	report(t, "components read wall time (take it from the runtime's Clock)", bad)
	for k := range wallTimeEdges {
		if !used[k] {
			t.Errorf("wallTimeEdges lists %s, which no longer reads wall time: remove it", k)
		}
	}
}

// wallTimeDirs are the packages outside the components that may read wall
// time: the engine, the real side of the Clock, Future.Await's real-time
// bound, the binaries and benchmarks, and test harnesses that drive
// programs outside our runtime (mesos-go peers, a ZooKeeper JVM, a
// headless Chromium).
var wallTimeDirs = []string{"actor", "process/walltime", "process/future", "cmd", "tests", "internal/mesosgo", "internal/zktest", "internal/browser"}

// TestWallTimeOnlyAtEdges extends the component rule to the whole tree:
// everything else takes time from process.Clock.
func TestWallTimeOnlyAtEdges(t *testing.T) {
	var bad []string
	for _, f := range sources(t) {
		if isComponent(f.dir) || slices.ContainsFunc(wallTimeDirs, func(d string) bool { return f.dir == d || strings.HasPrefix(f.dir, d+"/") }) {
			continue // components: TestNoWallTimeInComponents
		}
		name := importName(f.ast, "time")
		if name == "" {
			continue
		}
		inFuncs(f.ast, func(fn string, n ast.Node) {
			if sel, ok := n.(*ast.SelectorExpr); ok && wallTime[sel.Sel.Name] {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == name {
					bad = append(bad, fmt.Sprintf("%s: time.%s in %s", f.pos(sel.Pos()), sel.Sel.Name, fn))
				}
			}
		})
	}
	report(t, "wall time read outside the runtime's edges (use process.Clock, or process/walltime at a true OS edge)", bad)
}

func TestNoGoroutinesInComponents(t *testing.T) {
	var bad []string
	used := map[string]bool{}
	for _, f := range sources(t) {
		if !isComponent(f.dir) {
			continue
		}
		inFuncs(f.ast, func(fn string, n ast.Node) {
			g, ok := n.(*ast.GoStmt)
			if !ok {
				return
			}
			if _, ok := goroutineEdges[f.key(fn)]; ok {
				used[f.key(fn)] = true
				return
			}
			bad = append(bad, fmt.Sprintf("%s: go statement in %s", f.pos(g.Pos()), fn))
		})
	}
	report(t, "components start goroutines (return a Future from a collaborator and continue with Defer)", bad)
	for k := range goroutineEdges {
		if !used[k] {
			t.Errorf("goroutineEdges lists %s, which no longer starts a goroutine: remove it", k)
		}
	}
}

// componentHandles are the exported types through which other packages use
// a component, keyed by package dir: they hide the component's process, so
// their API is the component's own methods, never the process's Send, Link
// or Terminate.
var componentHandles = map[string]string{
	"master":    "Master",
	"slave":     "Slave",
	"scheduler": "Driver",
	"executor":  "Driver",
}

func TestComponentsHideTheirProcess(t *testing.T) {
	var bad []string
	found := make(map[string]bool)
	for _, f := range sources(t) {
		name, ok := componentHandles[f.dir]
		if !ok {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || ts.Name.Name != name {
				return true
			}
			found[f.dir] = true
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				bad = append(bad, f.pos(ts.Pos())+": "+f.dir+"."+name+" is not a struct")
				return false
			}
			for _, fld := range st.Fields.List {
				if len(fld.Names) == 0 {
					bad = append(bad, f.pos(fld.Pos())+": "+f.dir+"."+name+" embeds a field")
				}
			}
			return false
		})
	}
	for dir, name := range componentHandles {
		if !found[dir] {
			bad = append(bad, dir+"."+name+" not found")
		}
	}
	report(t, "a component's exported type embeds a field (keep the process in an unexported field; forward the component's own methods)", bad)
}
