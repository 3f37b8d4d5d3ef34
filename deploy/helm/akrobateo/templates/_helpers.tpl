{{/* SPDX-License-Identifier: Apache-2.0 */}}
{{/* The namespace of the operator and its balancer DaemonSets. */}}
{{- define "akrobateo.namespace" -}}
{{- .Values.namespace.name | default .Release.Namespace -}}
{{- end -}}

{{/* Labels on every object: deploy/'s two (kustomization.yaml) and the release's. */}}
{{- define "akrobateo.labels" -}}
app.kubernetes.io/name: akrobateo
app.kubernetes.io/part-of: akrobateo
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The operator pods' labels, which the Deployment, the PDB and the metrics Service select. */}}
{{- define "akrobateo.selector" -}}
app.kubernetes.io/name: akrobateo
app.kubernetes.io/component: operator
{{- end -}}

{{- define "akrobateo.operatorImage" -}}
{{- printf "%s:%s" .Values.image.operator.repository (.Values.image.operator.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{- define "akrobateo.nftlbImage" -}}
{{- printf "%s:%s" .Values.image.nftlb.repository (.Values.image.nftlb.tag | default .Chart.AppVersion) -}}
{{- end -}}
