package main

import (
	"fmt"
	"strings"

	"github.com/gomesos/gomesos/resources"
)

// match decides whether an offer can run the task: want is the task's
// resources as given (a resource without a role is unreserved), role the
// framework's. It returns the resources to launch with, or why the offer
// does not fit. Resources given without a role are taken from the
// role's reservation when it holds them all, else unreserved; revocable
// resources are never used.
func match(offered, want resources.Resources, role string) (resources.Resources, string) {
	offered = offered.NonRevocable().AllocatableTo(role)
	explicit := want.Filter(func(r resources.Resource) bool { return r.Role != "*" })
	if explicit.IsEmpty() && role != "*" {
		if reserved := want.Flatten(role); offered.Contains(reserved) {
			return reserved, ""
		}
	}
	if offered.Contains(want) {
		return want, ""
	}
	// Why not: what each wanted resource finds among those the
	// framework's role may use.
	usable := offered
	var why []string
	for _, r := range want {
		if r.Role != "*" && r.Role != role {
			why = append(why, fmt.Sprintf("%s is reserved for role '%s', not the framework's role '%s'", r.String(), r.Role, role))
			continue
		}
		var pool resources.Resources
		if r.Role == "*" {
			pool = usable.Flatten("*")
		} else {
			pool = usable.Reserved(role)
		}
		if pool.Contains(resources.Resources{r}) {
			continue
		}
		have := pool.Filter(func(o resources.Resource) bool { return o.Name == r.Name })
		got := "none"
		if !have.IsEmpty() {
			got = have.String()
		}
		why = append(why, fmt.Sprintf("needs %s, offered %s", resources.Resources{r}.Flatten("*").String(), got))
	}
	if len(why) == 0 {
		return nil, fmt.Sprintf("the task's resources are there only across the role '%s' and unreserved ones together (give them with roles, e.g. cpus(%s):1;mem(*):128)", role, role)
	}
	return nil, strings.Join(why, "; ")
}
