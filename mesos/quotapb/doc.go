// Package quotapb holds the quota types of proto package "mesos.quota".
package quotapb
