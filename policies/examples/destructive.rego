# Deleting or replacing what holds data needs a second person; a plan that deletes a lot needs one too.
package main

import rego.v1

stateful_types := {
	"aws_db_instance", "aws_rds_cluster", "aws_dynamodb_table", "aws_ebs_volume",
	"aws_efs_file_system", "aws_elasticache_cluster", "aws_neptune_cluster", "aws_s3_bucket",
}

destroys(rc) if "delete" in rc.change.actions

# ["delete", "create"] and ["create", "delete"] are replaces; ["delete"] alone is a delete.
verb(rc) := "replaces" if {
	count(rc.change.actions) == 2
} else := "deletes"

require_approval_stateful_delete contains result if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.type in stateful_types
	destroys(rc)
	result := {"msg": sprintf("plan %s %s, which holds data", [verb(rc), rc.address]), "address": rc.address}
}

# More than this many deletions in one plan is more likely a mistake (a wrong workspace, a bad refactor).
max_deletes := 20

require_approval_mass_delete contains msg if {
	n := count([rc | some rc in input.resource_changes; destroys(rc)])
	n > max_deletes
	msg := sprintf("plan deletes %d resources (more than %d)", [n, max_deletes])
}
