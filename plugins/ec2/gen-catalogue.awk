# SPDX-License-Identifier: Apache-2.0
# Writes the compiled-in part of data/ec2-catalogue.tsv (ec2_catalogue.h):
# per type the prices and the figures DescribeInstanceTypes does not give.
# Columns are found by the header's names, as the sim plugin finds them.
BEGIN { FS = "\t"; header = 0 }
/^#/ { next }
!header {
	for (i = 1; i <= NF; i++) col[$i] = i
	split("name on_demand_micro_usd_hr spot_micro_usd_hr alloc_pod_eni network_bandwidth_mbps", need, " ")
	for (k in need) if (!(need[k] in col)) { print "gen-catalogue.awk: no column " need[k] > "/dev/stderr"; exit 1 }
	header = 1
	print "/* SPDX-License-Identifier: Apache-2.0 */"
	print "/* Generated from data/ec2-catalogue.tsv by gen-catalogue.awk; do not edit. */"
	print "#include \"ec2_catalogue.h\""
	print "const struct ec2_catalogue_row ec2_catalogue[] = {"
	next
}
{
	spot = $col["spot_micro_usd_hr"]; if (spot == "-") spot = -1
	bw = $col["network_bandwidth_mbps"]; if (bw == "-") bw = -1
	printf "\t{\"%s\", %s, %s, %s, %s},\n", $col["name"], $col["on_demand_micro_usd_hr"], spot, $col["alloc_pod_eni"], bw
	n++
}
END {
	if (!header) exit 1
	print "};"
	printf "const size_t ec2_catalogue_len = %d;\n", n
}
