// Package allocatorpb holds proto package "mesos.allocator"
// (InverseOfferStatus).
package allocatorpb
