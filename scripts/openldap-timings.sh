#!/usr/bin/env bash
# Timings of the OpenLDAP procedures on a 3-node slapd lab (ms from the --json reports), 5 runs.
# Needs slapd, ldap-utils and jq. Run from the repository root after `cargo build`.
set -euo pipefail
D=${DRCTL:-$(pwd)/target/debug/drctl}
L=${LAB:-$(mktemp -d)/lab}
export DRCTL_CLUSTER=$L/cluster.yaml
ms(){ date +%s%3N; }
url(){ grep -A2 "name: $1\$" $L/cluster.yaml | awk '/url:/{print $2}'; }
people(){ for i in $(seq 1 $2); do printf 'dn: uid=%s%05d,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: %s%05d\ncn: x\nsn: x\n\n' $1 $i $1 $i; done; }
add(){ ldapadd -x -H $(url $1) -D cn=admin,dc=example,dc=com -w $(cat $L/password) >/dev/null; }
for r in 1 2 3 4 5; do
  $D --lab-dir $L lab down >/dev/null 2>&1 || true
  $D --lab-dir $L lab up --kind openldap --nodes 3 >/dev/null
  people u 1000 | add node-1
  $D --lab-dir $L lab kill node-1 >/dev/null
  t0=$(ms); FO=$($D failover --yes --json 2>/dev/null); fo=$(jq .ms <<<"$FO"); P=$(jq -r '.steps[1].node' <<<"$FO")
  printf "dn: uid=first,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: first\ncn: x\nsn: x\n\n" | add $P
  t1=$(ms)
  people b 5 | add $P
  $D --lab-dir $L lab restart node-1 >/dev/null
  db=$($D demote node-1 --yes --json 2>/dev/null | jq .ms)
  $D --lab-dir $L lab kill $P >/dev/null
  $D failover --to node-1 --yes >/dev/null 2>&1
  $D --lab-dir $L lab restart $P >/dev/null
  people split 5 | add $P
  DD=$($D demote $P --yes --export $L.export.ldif --json 2>/dev/null); dd=$(jq .ms <<<"$DD"); ddsteps=$(jq -c "[.steps[].ms]" <<<"$DD")
  so=$($D switchover --to $P --yes --json 2>/dev/null | jq .ms)
  echo "run $r: failover $fo ms (command+first write $((t1-t0)) ms), demote-behind $db ms, demote-diverged(1000 entries) $dd ms steps $ddsteps, switchover $so ms"
done
$D --lab-dir $L lab down >/dev/null
