# S3 buckets: nothing public, nothing that deletes its objects on destroy without a person saying so.
package main

import rego.v1

public_acls := {"public-read", "public-read-write", "authenticated-read"}

# The values a change leaves behind (`after` is null for a delete).
after(rc) := value if {
	value := rc.change.after
	is_object(value)
} else := {}

deny_public_bucket contains result if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.type == "aws_s3_bucket"
	acl := after(rc).acl
	acl in public_acls
	result := {
		"msg": sprintf("%s: bucket ACL %q makes every object public", [rc.address, acl]),
		"address": rc.address,
	}
}

warn_force_destroy contains result if {
	some rc in input.resource_changes
	rc.mode == "managed"
	rc.type == "aws_s3_bucket"
	after(rc).force_destroy == true
	result := {"msg": sprintf("%s: force_destroy deletes every object with the bucket", [rc.address]), "address": rc.address}
}
