#!/usr/bin/env bash
# The blue-green switch in Kubernetes: the Api and the Worker run as a blue and a green Deployment each; the Services
# select the live colour by its label.
#   deploy/scripts/blue-green.sh NAMESPACE release TAG [REGISTRY]   put TAG on the idle colour and switch to it
#   deploy/scripts/blue-green.sh NAMESPACE rollback                 switch back to the other colour as it was
#   deploy/scripts/blue-green.sh NAMESPACE status
# The idle colour is scaled up, waits until ready, is smoke-tested through its own Service, then the Services and the
# autoscaler switch to it; after the drain (requests in flight finish, endpoints leave every node) the old colour is
# scaled to zero, keeping its image for a rollback.
set -euo pipefail
namespace=${1:?namespace, e.g. ticketsale-production}
action=${2:?release TAG, rollback or status}
registry=${4:-ghcr.io/ticketsale}
colour_label=ticketsale/colour
released="api worker"
autoscaled="api"
drain_seconds=35

k() { kubectl -n "$namespace" "$@"; }
live=$(k get service api -o jsonpath="{.spec.selector.ticketsale/colour}")
idle=$([[ $live == blue ]] && echo green || echo blue)

case $action in
  status) echo "live: $live, idle: $idle"; exit 0 ;;
  release) tag=${3:?image tag}
    for workload in $released; do
      k set image "deployment/$workload-$idle" "$workload=$registry/ticketsale-$workload:$tag"
    done ;;
  rollback) ;;
  *) echo "blue-green: unknown action $action" >&2; exit 2 ;;
esac

for workload in $released; do
  replicas=$(k get "deployment/$workload-$live" -o jsonpath='{.spec.replicas}')
  k scale "deployment/$workload-$idle" --replicas="${replicas:-1}"
done
for workload in $released; do
  k rollout status "deployment/$workload-$idle" --timeout=10m
done

k port-forward "service/api-$idle" 18080:http >/dev/null &
forward=$!
trap 'kill $forward 2>/dev/null || true' EXIT
sleep 2
"$(dirname "$0")/smoke-test.sh" http://localhost:18080 || { echo "blue-green: $idle failed its smoke test; $live stays live" >&2; exit 1; }

for workload in $released; do
  k patch service "$workload" --type merge -p "{\"spec\":{\"selector\":{\"$colour_label\":\"$idle\"}}}"
done
for workload in $autoscaled; do
  k patch hpa "$workload" --type merge -p "{\"spec\":{\"scaleTargetRef\":{\"name\":\"$workload-$idle\"}}}"
done
echo "blue-green: $idle is live; draining $live for ${drain_seconds}s"
sleep "$drain_seconds"
for workload in $released; do
  k scale "deployment/$workload-$live" --replicas=0
done
echo "blue-green: $live scaled to zero (roll back with: $0 $namespace rollback)"
