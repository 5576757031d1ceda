package replog

// Regenerate replog.pb.go (needs protoc and protoc-gen-go; see
// mesos/generate.sh, which installs the pinned protoc-gen-go).
//go:generate protoc -I ../.. --go_out=../.. --go_opt=paths=source_relative ../../master/replog/replog.proto
