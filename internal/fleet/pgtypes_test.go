package fleet

// Copied unmodified (but for this header and the Plugin fields below, from
// internal/plugin.go's type Plugin) from open-cluster-management-io/
// policy-generator-plugin, commit 5c9299868f2ff51ee28c9647f4e986ccb2ad53fe, internal/types/types.go
// (Apache-2.0). The module is not served by the Go module proxy, and the
// package is internal: the PolicyGenerator input mosc writes is decoded
// strictly into these types, as the plugin itself decodes it (Plugin.Config:
// yaml.v3 with KnownFields), so an unknown or mistyped field fails here.

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pgPlugin is the configuration part of upstream's internal.Plugin.
type pgPlugin struct {
	APIVersion string   `json:"apiVersion,omitempty" yaml:"apiVersion,omitempty"`
	Kind       string   `json:"kind,omitempty"       yaml:"kind,omitempty"`
	Metadata   Metadata `json:"metadata"             yaml:"metadata"`

	PlacementBindingDefaults PlacementBindingDefaults `json:"placementBindingDefaults" yaml:"placementBindingDefaults"`
	PolicyDefaults           PolicyDefaults           `json:"policyDefaults"           yaml:"policyDefaults"`
	PolicySetDefaults        PolicySetDefaults        `json:"policySetDefaults"        yaml:"policySetDefaults"`
	Policies                 []PolicyConfig           `json:"policies"                 yaml:"policies"`
	PolicySets               []PolicySetConfig        `json:"policySets"               yaml:"policySets"`
}

type HubTemplateOptions struct {
	ServiceAccountName string `json:"serviceAccountName,omitempty" yaml:"serviceAccountName,omitempty"`
}

type CustomMessage struct {
	Compliant    string `json:"compliant,omitempty"    yaml:"compliant,omitempty"`
	NonCompliant string `json:"noncompliant,omitempty" yaml:"noncompliant,omitempty"`
}

type PolicyOptions struct {
	Categories                     []string           `json:"categories,omitempty"                     yaml:"categories,omitempty"`
	Controls                       []string           `json:"controls,omitempty"                       yaml:"controls,omitempty"`
	CopyPolicyMetadata             bool               `json:"copyPolicyMetadata,omitempty"             yaml:"copyPolicyMetadata,omitempty"`
	Dependencies                   []PolicyDependency `json:"dependencies,omitempty"                   yaml:"dependencies,omitempty"`
	Description                    string             `json:"description,omitempty"                    yaml:"description,omitempty"`
	ExtraDependencies              []PolicyDependency `json:"extraDependencies,omitempty"              yaml:"extraDependencies,omitempty"`
	Placement                      PlacementConfig    `json:"placement,omitempty"                      yaml:"placement,omitempty"`
	Standards                      []string           `json:"standards,omitempty"                      yaml:"standards,omitempty"`
	ConsolidateManifests           bool               `json:"consolidateManifests,omitempty"           yaml:"consolidateManifests,omitempty"`
	OrderManifests                 bool               `json:"orderManifests"                           yaml:"orderManifests"`
	Disabled                       bool               `json:"disabled,omitempty"                       yaml:"disabled,omitempty"`
	IgnorePending                  bool               `json:"ignorePending,omitempty"                  yaml:"ignorePending,omitempty"`
	InformGatekeeperPolicies       bool               `json:"informGatekeeperPolicies,omitempty"       yaml:"informGatekeeperPolicies,omitempty"`
	InformKyvernoPolicies          bool               `json:"informKyvernoPolicies,omitempty"          yaml:"informKyvernoPolicies,omitempty"`
	GeneratePolicyPlacement        bool               `json:"generatePolicyPlacement,omitempty"        yaml:"generatePolicyPlacement,omitempty"`
	GeneratePlacementWhenInSet     bool               `json:"generatePlacementWhenInSet,omitempty"     yaml:"generatePlacementWhenInSet,omitempty"`
	PolicySets                     []string           `json:"policySets,omitempty"                     yaml:"policySets,omitempty"`
	PolicyAnnotations              map[string]string  `json:"policyAnnotations,omitempty"              yaml:"policyAnnotations,omitempty"`
	PolicyLabels                   map[string]string  `json:"policyLabels,omitempty"                   yaml:"policyLabels,omitempty"`
	ConfigurationPolicyAnnotations map[string]string  `json:"configurationPolicyAnnotations,omitempty" yaml:"configurationPolicyAnnotations,omitempty"`
	HubTemplateOptions             HubTemplateOptions `json:"hubTemplateOptions,omitempty"             yaml:"hubTemplateOptions,omitempty"`
}

type PolicySetOptions struct {
	Placement                  PlacementConfig `json:"placement,omitempty"                  yaml:"placement,omitempty"`
	GeneratePolicySetPlacement bool            `json:"generatePolicySetPlacement,omitempty" yaml:"generatePolicySetPlacement,omitempty"`
}

type ConfigurationPolicyOptions struct {
	RemediationAction      string             `json:"remediationAction,omitempty"      yaml:"remediationAction,omitempty"`
	Severity               string             `json:"severity,omitempty"               yaml:"severity,omitempty"`
	ComplianceType         string             `json:"complianceType,omitempty"         yaml:"complianceType,omitempty"`
	MetadataComplianceType string             `json:"metadataComplianceType,omitempty" yaml:"metadataComplianceType,omitempty"`
	EvaluationInterval     EvaluationInterval `json:"evaluationInterval,omitempty"     yaml:"evaluationInterval,omitempty"`
	NamespaceSelector      NamespaceSelector  `json:"namespaceSelector,omitempty"      yaml:"namespaceSelector,omitempty"`
	PruneObjectBehavior    string             `json:"pruneObjectBehavior,omitempty"    yaml:"pruneObjectBehavior,omitempty"`
	RecordDiff             string             `json:"recordDiff,omitempty"             yaml:"recordDiff,omitempty"`
	RecreateOption         string             `json:"recreateOption,omitempty"         yaml:"recreateOption,omitempty"`
	CustomMessage          CustomMessage      `json:"customMessage,omitempty"          yaml:"customMessage,omitempty"`
	ObjectSelector         LabelSelector      `json:"objectSelector,omitempty"         yaml:"objectSelector,omitempty"`
}

type GatekeeperOptions struct {
	GatekeeperEnforcementAction string `json:"gatekeeperEnforcementAction,omitempty" yaml:"gatekeeperEnforcementAction,omitempty"`
}

type Manifest struct {
	ConfigurationPolicyOptions `json:",inline"                     yaml:",inline"`
	GatekeeperOptions          `json:",inline"                     yaml:",inline"`
	Patches                    []map[string]interface{} `json:"patches,omitempty"           yaml:"patches,omitempty"`
	Path                       string                   `json:"path,omitempty"              yaml:"path,omitempty"`
	ExtraDependencies          []PolicyDependency       `json:"extraDependencies,omitempty" yaml:"extraDependencies,omitempty"`
	IgnorePending              bool                     `json:"ignorePending,omitempty"     yaml:"ignorePending,omitempty"`
	OpenAPI                    Filepath                 `json:"openapi,omitempty"           yaml:"openapi,omitempty"`
	Name                       string                   `json:"name,omitempty"              yaml:"name,omitempty"`
}

type Filepath struct {
	Path string `json:"path,omitempty" yaml:"path,omitempty"`
}

type LabelSelector struct {
	MatchLabels      *map[string]string                 `json:"matchLabels,omitempty"      yaml:"matchLabels,omitempty"`
	MatchExpressions *[]metav1.LabelSelectorRequirement `json:"matchExpressions,omitempty" yaml:"matchExpressions,omitempty"`
}

func (s LabelSelector) IsUnset() bool {
	return s.MatchExpressions == nil && s.MatchLabels == nil
}

type NamespaceSelector struct {
	LabelSelector `json:",inline"           yaml:",inline"`
	Exclude       []string `json:"exclude,omitempty" yaml:"exclude,omitempty"`
	Include       []string `json:"include,omitempty" yaml:"include,omitempty"`
}

// Define String() so that the LabelSelector is dereferenced in the logs
func (t NamespaceSelector) String() string {
	fmtSelectorStr := "{include:%s,exclude:%s,matchLabels:%+v,matchExpressions:%+v}"
	if t.LabelSelector.IsUnset() {
		return fmt.Sprintf(fmtSelectorStr, t.Include, t.Exclude, nil, nil)
	}

	if t.MatchLabels == nil {
		return fmt.Sprintf(fmtSelectorStr, t.Include, t.Exclude, nil, *t.MatchExpressions)
	}

	if t.MatchExpressions == nil {
		return fmt.Sprintf(fmtSelectorStr, t.Include, t.Exclude, *t.MatchLabels, nil)
	}

	return fmt.Sprintf(fmtSelectorStr, t.Include, t.Exclude, *t.MatchLabels, *t.MatchExpressions)
}

type PlacementConfig struct {
	LabelSelector map[string]interface{} `json:"labelSelector,omitempty" yaml:"labelSelector,omitempty"`
	Name          string                 `json:"name,omitempty"          yaml:"name,omitempty"`
	PlacementPath string                 `json:"placementPath,omitempty" yaml:"placementPath,omitempty"`
	PlacementName string                 `json:"placementName,omitempty" yaml:"placementName,omitempty"`
}

type EvaluationInterval struct {
	Compliant    string `json:"compliant,omitempty"    yaml:"compliant,omitempty"`
	NonCompliant string `json:"noncompliant,omitempty" yaml:"noncompliant,omitempty"`
}

// PolicyConfig represents a policy entry in the PolicyGenerator configuration.
type PolicyConfig struct {
	PolicyOptions              `json:",inline"        yaml:",inline"`
	ConfigurationPolicyOptions `json:",inline"        yaml:",inline"`
	GatekeeperOptions          `json:",inline"        yaml:",inline"`
	Name                       string `json:"name,omitempty" yaml:"name,omitempty"`
	// This a slice of structs to allow additional configuration related to a manifest such as
	// accepting patches.
	Manifests []Manifest `json:"manifests,omitempty" yaml:"manifests,omitempty"`
}

type PolicyDefaults struct {
	PolicyOptions              `json:",inline"                 yaml:",inline"`
	ConfigurationPolicyOptions `json:",inline"                 yaml:",inline"`
	GatekeeperOptions          `json:",inline"                 yaml:",inline"`
	Namespace                  string `json:"namespace,omitempty"     yaml:"namespace,omitempty"`
	OrderPolicies              bool   `json:"orderPolicies,omitempty" yaml:"orderPolicies,omitempty"`
}

type PolicySetConfig struct {
	Name             string   `json:"name,omitempty"        yaml:"name,omitempty"`
	Description      string   `json:"description,omitempty" yaml:"description,omitempty"`
	Policies         []string `json:"policies,omitempty"    yaml:"policies,omitempty"`
	PolicySetOptions `json:",inline"               yaml:",inline"`
}

type PolicySetDefaults struct {
	PolicySetOptions `json:",inline" yaml:",inline"`
}

type PolicyDependency struct {
	APIVersion string `json:"apiVersion,omitempty" yaml:"apiVersion,omitempty"`
	Compliance string `json:"compliance,omitempty" yaml:"compliance,omitempty"`
	Kind       string `json:"kind,omitempty"       yaml:"kind,omitempty"`
	Name       string `json:"name"                 yaml:"name"`
	Namespace  string `json:"namespace,omitempty"  yaml:"namespace,omitempty"`
}

type PlacementBindingDefaults struct {
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
}

type Metadata struct {
	Name        string            `json:"name,omitempty"        yaml:"name,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty" yaml:"annotations,omitempty"`
}
