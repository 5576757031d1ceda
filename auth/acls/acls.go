// Package acls is Mesos's local authorizer: ordered ACLs (the `ACLs`
// protobuf, given to the master as --acls JSON) where the first ACL that
// matches a request decides, and ACLs.permissive (default true) decides
// when none matches.
//
// An ACL matches a request when each of its entities matches the request's
// value: ANY and NONE match every value, SOME matches the values it lists.
// A matching ACL allows the request unless one of its entities is NONE.
// A request without a subject (a framework with no principal) matches only
// ACLs whose subject is ANY.
package acls

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gomesos/gomesos/mesos"
)

// Authorizer answers authorization requests from a set of ACLs.
type Authorizer struct{ acls *mesos.ACLs }

// Parse reads ACLs in Mesos's JSON form, e.g.
// `{"run_tasks":[{"principals":{"values":["foo"]},"users":{"values":["alice"]}}]}`.
func Parse(data []byte) (*Authorizer, error) {
	a := &mesos.ACLs{}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, a); err != nil {
		return nil, fmt.Errorf("acls: %w", err)
	}
	return &Authorizer{acls: a}, nil
}

// New wraps acls.
func New(acls *mesos.ACLs) *Authorizer { return &Authorizer{acls: acls} }

// matches says whether entity e covers value v ("" is no value).
func matches(v string, e *mesos.ACL_Entity) bool {
	switch e.GetType() {
	case mesos.ACL_Entity_ANY:
		return true
	case mesos.ACL_Entity_NONE:
		return v != ""
	}
	return v != "" && slices.Contains(e.GetValues(), v)
}

// decide walks ACLs (as subject/object entity pairs) for a request.
func (a *Authorizer) decide(n int, entities func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity), subject, object string) bool {
	for i := 0; i < n; i++ {
		s, o := entities(i)
		if matches(subject, s) && matches(object, o) {
			return s.GetType() != mesos.ACL_Entity_NONE && o.GetType() != mesos.ACL_Entity_NONE
		}
	}
	return a.acls.GetPermissive()
}

// RegisterFramework: may principal register a framework in role?
func (a *Authorizer) RegisterFramework(principal, role string) bool {
	acl := a.acls.GetRegisterFrameworks()
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) {
		return acl[i].GetPrincipals(), acl[i].GetRoles()
	}, principal, role)
}

// RunTask: may principal run a task or executor as user?
func (a *Authorizer) RunTask(principal, user string) bool {
	acl := a.acls.GetRunTasks()
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) {
		return acl[i].GetPrincipals(), acl[i].GetUsers()
	}, principal, user)
}

// ShutdownFramework: may principal (an HTTP caller) tear down a framework
// registered by frameworkPrincipal? (`shutdown_frameworks`, and the 1.0
// name `teardown_frameworks`, in that order.)
func (a *Authorizer) ShutdownFramework(principal, frameworkPrincipal string) bool {
	type pair struct{ s, o *mesos.ACL_Entity }
	var acl []pair
	for _, x := range a.acls.GetShutdownFrameworks() {
		acl = append(acl, pair{x.GetPrincipals(), x.GetFrameworkPrincipals()})
	}
	for _, x := range a.acls.GetTeardownFrameworks() {
		acl = append(acl, pair{x.GetPrincipals(), x.GetFrameworkPrincipals()})
	}
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) { return acl[i].s, acl[i].o }, principal, frameworkPrincipal)
}

// ReserveResources: may principal reserve resources for role?
// (`reserve_resources`; a request naming several roles is allowed only
// when each of them is.)
func (a *Authorizer) ReserveResources(principal, role string) bool {
	acl := a.acls.GetReserveResources()
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) {
		return acl[i].GetPrincipals(), acl[i].GetRoles()
	}, principal, role)
}

// UnreserveResources: may principal unreserve resources that
// reserverPrincipal reserved? (`unreserve_resources`)
func (a *Authorizer) UnreserveResources(principal, reserverPrincipal string) bool {
	acl := a.acls.GetUnreserveResources()
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) {
		return acl[i].GetPrincipals(), acl[i].GetReserverPrincipals()
	}, principal, reserverPrincipal)
}

// CreateVolume: may principal create persistent volumes on role's
// reserved disk? (`create_volumes`)
func (a *Authorizer) CreateVolume(principal, role string) bool {
	acl := a.acls.GetCreateVolumes()
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) {
		return acl[i].GetPrincipals(), acl[i].GetRoles()
	}, principal, role)
}

// DestroyVolume: may principal destroy a persistent volume that
// creatorPrincipal created? (`destroy_volumes`)
func (a *Authorizer) DestroyVolume(principal, creatorPrincipal string) bool {
	acl := a.acls.GetDestroyVolumes()
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) {
		return acl[i].GetPrincipals(), acl[i].GetCreatorPrincipals()
	}, principal, creatorPrincipal)
}

// SetQuota: may principal set a quota for role? (`set_quotas`, then the
// 1.0 name `update_quotas`, in that order.)
func (a *Authorizer) SetQuota(principal, role string) bool {
	type pair struct{ s, o *mesos.ACL_Entity }
	var acl []pair
	for _, x := range a.acls.GetSetQuotas() {
		acl = append(acl, pair{x.GetPrincipals(), x.GetRoles()})
	}
	for _, x := range a.acls.GetUpdateQuotas() {
		acl = append(acl, pair{x.GetPrincipals(), x.GetRoles()})
	}
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) { return acl[i].s, acl[i].o }, principal, role)
}

// RemoveQuota: may principal remove role's quota, set by quotaPrincipal?
// (`remove_quotas` by the quota's principal, then `update_quotas` by
// role, in that order.)
func (a *Authorizer) RemoveQuota(principal, quotaPrincipal, role string) bool {
	rm, up := a.acls.GetRemoveQuotas(), a.acls.GetUpdateQuotas()
	for _, x := range rm {
		if matches(principal, x.GetPrincipals()) && matches(quotaPrincipal, x.GetQuotaPrincipals()) {
			return x.GetPrincipals().GetType() != mesos.ACL_Entity_NONE && x.GetQuotaPrincipals().GetType() != mesos.ACL_Entity_NONE
		}
	}
	return a.decide(len(up), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) {
		return up[i].GetPrincipals(), up[i].GetRoles()
	}, principal, role)
}

// GetQuota: may principal see role's quota? (`get_quotas`)
func (a *Authorizer) GetQuota(principal, role string) bool {
	acl := a.acls.GetGetQuotas()
	return a.decide(len(acl), func(i int) (*mesos.ACL_Entity, *mesos.ACL_Entity) {
		return acl[i].GetPrincipals(), acl[i].GetRoles()
	}, principal, role)
}
