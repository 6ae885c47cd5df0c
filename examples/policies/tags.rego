package main

import rego.v1

# Every new AWS resource says who owns it.
warn contains msg if {
	some rc in input.resource_changes
	rc.mode == "managed"
	startswith(rc.type, "aws_")
	"create" in rc.change.actions
	tags := object.get(rc.change.after, "tags", {})
	not tags.owner
	msg := sprintf("%s has no owner tag", [rc.address])
}

# Unencrypted databases are never created.
deny contains {"msg": sprintf("%s: storage must be encrypted", [rc.address]), "address": rc.address} if {
	some rc in input.resource_changes
	rc.type == "aws_db_instance"
	"create" in rc.change.actions
	rc.change.after.storage_encrypted == false
}
