#!/bin/sh
# The namespace moisson runs in, and the search attributes its workflows set (idempotent).
set -eu
ns="${MOISSON_NAMESPACE:-default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" | grep -q SERVING; do sleep 2; done
temporal operator namespace describe --namespace "$ns" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 \
  || temporal operator namespace create --namespace "$ns" --retention 30d --address "$TEMPORAL_ADDRESS"
for attr in MoissonPipeline:Keyword MoissonWindow:Keyword MoissonSource:Keyword MoissonJobId:Keyword; do
  name="${attr%%:*}"; type="${attr##*:}"
  temporal operator search-attribute create --namespace "$ns" --name "$name" --type "$type" --address "$TEMPORAL_ADDRESS" 2>/dev/null \
    || echo "search attribute $name exists"
done
echo "namespace $ns ready"
