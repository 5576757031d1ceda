// Package archtest holds the architecture tests: the rules of DESIGN.md
// that a reviewer would otherwise have to remember. protoactor-go is
// imported only in actor/; production code does not import testing;
// component packages (master, slave, executor, scheduler, containerizer,
// detector) neither read wall time nor start goroutines, except at the
// operating-system edges listed, with their reasons, in the tests.
package archtest
