#!/usr/bin/env bash
# Deploys a release to an environment's namespace from the generated kustomize overlay:
#   deploy/scripts/deploy.sh ENVIRONMENT TAG [REGISTRY]
# ENVIRONMENT is dev, staging or production; TAG the images' tag (CI uses the commit); REGISTRY defaults to
# ghcr.io/ticketsale. The overlay's secrets.env (keys in deploy/kubernetes/secrets.env.example) must be present.
# The migration Job runs to completion before the services roll out. The first deployment makes blue live; every later
# one releases the Api and the Worker by the blue-green switch (blue-green.sh), the live colour serving meanwhile.
set -euo pipefail
environment=${1:?environment: dev, staging or production}
tag=${2:?image tag}
registry=${3:-ghcr.io/ticketsale}
overlay="$(cd "$(dirname "$0")/../kubernetes/overlays/$environment" && pwd)"
namespace="ticketsale-$environment"
[[ -f "$overlay/secrets.env" ]] || { echo "deploy: $overlay/secrets.env is missing (keys: deploy/kubernetes/secrets.env.example)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$overlay/../.." "$work/kubernetes"
cp "$overlay/secrets.env" "$work/kubernetes/overlays/$environment/"
(
  cd "$work/kubernetes/overlays/$environment"
  for image in $(sed -n 's/^- name: \(ticketsale-[a-z-]*\)$/\1/p' kustomization.yaml); do
    sed -i "/^- name: $image\$/{n;s|newName: .*|newName: $registry/$image|;n;s|newTag: .*|newTag: $tag|}" kustomization.yaml
  done
)

kubectl get namespace "$namespace" >/dev/null 2>&1 || kubectl create namespace "$namespace"
kubectl kustomize "$work/kubernetes/overlays/$environment" > "$work/manifest.yaml"
# Once a colour is live, the blue-green switch owns the released workloads (their Deployments, the Services that
# select the live colour, the autoscaler): applying them would send traffic back to blue. Everything else is applied.
live=$(kubectl -n "$namespace" get service api -o jsonpath="{.spec.selector.ticketsale/colour}" 2>/dev/null || true)
if [[ -n $live ]]; then
  awk -v RS='\n---\n' -v ORS='\n---\n' '
    { kind = ""; name = "" }
    match($0, /(^|\n)kind: [A-Za-z]+/) { kind = substr($0, RSTART, RLENGTH); sub(/.*kind: /, "", kind) }
    match($0, /\nmetadata:(\n  [^\n]*)*\n  name: [a-z0-9-]+/) { name = substr($0, RSTART, RLENGTH); sub(/.*name: /, "", name) }
    !((kind == "Deployment" && name ~ /^(api|worker)-(blue|green)$/) || (kind == "Service" && name ~ /^(api|worker)$/) \
      || (kind == "HorizontalPodAutoscaler" && name == "api"))' "$work/manifest.yaml" > "$work/without-releases.yaml"
  mv "$work/without-releases.yaml" "$work/manifest.yaml"
fi

# A Job's template cannot change: the previous release's migration run makes way for this one's.
kubectl -n "$namespace" delete job migrations --ignore-not-found --wait=true
kubectl apply -f "$work/manifest.yaml"
kubectl -n "$namespace" wait --for=condition=complete job/migrations --timeout=10m
for statefulset in $(kubectl -n "$namespace" get statefulsets -o name); do
  kubectl -n "$namespace" rollout status "$statefulset" --timeout=10m
done
if [[ -n $live ]]; then
  # The new images start on the idle colour, are smoke-tested, then take the traffic.
  "$(dirname "$0")/blue-green.sh" "$namespace" release "$tag" "$registry"
fi
for deployment in $(kubectl -n "$namespace" get deployments -o name); do
  kubectl -n "$namespace" rollout status "$deployment" --timeout=10m
done
