// Package mesos holds the public Mesos protobuf types (proto package
// "mesos": FrameworkInfo, TaskInfo, TaskStatus, Resource, Offer, ...),
// generated from mesos.proto and acls.proto in this directory.
//
// Every .proto file under this directory is written for gomesos but keeps
// Apache Mesos 1.0's message names, field names, numbers, types, labels,
// defaults and enum values, so that the bytes on the wire are the same
// as Mesos's. testdata/schema.txt lists those facts as read from Mesos
// 1.0.0, and TestSchemaMatchesMesos checks every descriptor against it.
//
// Layout (directory, proto package, contents):
//
//	mesos/                 mesos                 public types
//	mesos/messages/        mesos.internal        libprocess messages between
//	                                             master, slave, drivers and
//	                                             executors; authentication;
//	                                             the master's Registry;
//	                                             --firewall_rules
//	mesos/schedulerpb/     mesos.scheduler       scheduler Call and Event
//	mesos/executorpb/      mesos.executor        executor Call and Event
//	mesos/allocatorpb/     mesos.allocator       InverseOfferStatus
//	mesos/maintenancepb/   mesos.maintenance     maintenance schedules
//	mesos/quotapb/         mesos.quota           quota
//	mesos/statepb/         mesos.internal.state  key/value store records
//	mesos/v1/mesospb/      mesos.v1              v1 HTTP API public types
//	mesos/v1/schedulerpb/  mesos.v1.scheduler    v1 scheduler Call and Event
//	mesos/v1/executorpb/   mesos.v1.executor     v1 executor Call and Event
//
// The generated *.pb.go files are committed. After editing a .proto file,
// regenerate them all from the module root with
//
//	./mesos/generate.sh
//
// (the same as "go generate ./mesos" or "make proto"). It needs protoc
// (Debian package protobuf-compiler) and installs protoc-gen-go at the
// google.golang.org/protobuf version in go.mod when that is missing.
package mesos

//go:generate ./generate.sh
