# Written in Rego v0 syntax (older conftest policies): guardrail reads v0 and v1 files side by side.
package terraform.network

world := "0.0.0.0/0"

admin_ports := {22, 3389}

deny[msg] {
	rc := input.resource_changes[_]
	rc.type == "aws_security_group"
	rule := rc.change.after.ingress[_]
	rule.cidr_blocks[_] == world
	port := admin_ports[_]
	rule.from_port <= port
	rule.to_port >= port
	msg := {"msg": sprintf("%s: port %d is open to the internet", [rc.address, port]), "address": rc.address}
}

warn[msg] {
	rc := input.resource_changes[_]
	rc.type == "aws_subnet"
	rc.change.after.map_public_ip_on_launch == true
	msg := sprintf("%s: instances get public IPs on launch", [rc.address])
}
