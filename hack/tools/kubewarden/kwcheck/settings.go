package main

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// schema describes a module's settings as its documentation states them
// (README, metadata.yml and settings struct of each policy in
// kubewarden/policies at the version in modules). It is written apart from
// the renderer's table on purpose: a setting the renderer misspells, or a
// value a module does not take, fails here.
type schema struct {
	typ      string // bool, int, string, list, object
	enum     []string
	items    *schema
	props    map[string]*schema
	required []string
	// check validates what the type alone cannot (documented constraints).
	check func(v any) error
}

func obj(props map[string]*schema, required ...string) *schema {
	return &schema{typ: "object", props: props, required: required}
}
func list(items *schema) *schema { return &schema{typ: "list", items: items} }

var (
	tBool   = &schema{typ: "bool"}
	tInt    = &schema{typ: "int"}
	tString = &schema{typ: "string"}
)

func enum(values ...string) *schema { return &schema{typ: "string", enum: values} }

// idRange is {min, max} with min <= max.
func idRange() *schema {
	s := obj(map[string]*schema{"min": tInt, "max": tInt}, "min", "max")
	s.check = func(v any) error {
		m := v.(map[string]any)
		if toInt(m["min"]) > toInt(m["max"]) {
			return fmt.Errorf("min %v is greater than max %v", m["min"], m["max"])
		}
		return nil
	}
	return s
}

// strategy is user-group-psp's {rule, ranges, overwrite}.
func strategy(rules ...string) *schema {
	s := obj(map[string]*schema{"rule": enum(rules...), "ranges": list(idRange()), "overwrite": tBool}, "rule")
	s.check = func(v any) error {
		m := v.(map[string]any)
		rule, _ := m["rule"].(string)
		ranges, _ := m["ranges"].([]any)
		if (rule == "MustRunAs" || rule == "MayRunAs") && len(ranges) == 0 {
			return fmt.Errorf("rule %s needs at least one range", rule)
		}
		if ow, _ := m["overwrite"].(bool); ow && rule != "MustRunAs" {
			return fmt.Errorf("overwrite is only allowed with MustRunAs")
		}
		return nil
	}
	return s
}

// module is one policy module: the version whose documentation the schema
// follows, and its settings.
type module struct {
	version  string
	settings *schema
}

var modules = map[string]module{
	"pod-privileged": {"v1.0.13", obj(map[string]*schema{
		"skip_init_containers": tBool, "skip_ephemeral_containers": tBool})},
	"host-namespaces-psp": {"v1.1.11", obj(map[string]*schema{
		"allow_host_ipc": tBool, "allow_host_network": tBool, "allow_host_pid": tBool,
		"allow_host_ports": list(idRange())})},
	"capabilities-psp": {"v1.0.13", capabilities()},
	// Documented as having no configuration.
	"readonly-root-filesystem-psp": {"v1.0.13", obj(map[string]*schema{})},
	"allow-privilege-escalation-psp": {"v1.0.13", obj(map[string]*schema{
		"default_allow_privilege_escalation": tBool})},
	"user-group-psp": {"v1.1.6", userGroup()},
	"allowed-fsgroups-psp": {"v1.0.12", func() *schema {
		s := strategy("MustRunAs", "MayRunAs", "RunAsAny")
		delete(s.props, "overwrite")
		return s
	}()},
	"selinux-psp": {"v1.1.2", obj(map[string]*schema{
		"rule": enum("MustRunAs", "RunAsAny"), "user": tString, "role": tString, "type": tString, "level": tString}, "rule")},
	"allowed-proc-mount-types-psp": {"v1.0.15", obj(map[string]*schema{"allow_unmasked_proc_mount_type": tBool})},
	"flexvolume-drivers-psp": {"v1.0.17", obj(map[string]*schema{
		"allowedFlexVolumes": list(obj(map[string]*schema{"driver": tString}, "driver"))})},
	"volumes-psp": {"v1.1.10", volumes()},
	"sysctl-psp":  {"v1.0.14", sysctls()},
	"cel-policy":  {"v1.6.3", celPolicy()},
	"hostpaths-psp": {"v1.1.10", obj(map[string]*schema{
		"allowedHostPaths": list(obj(map[string]*schema{"pathPrefix": tString, "readOnly": tBool}, "pathPrefix", "readOnly"))})},
}

func capabilities() *schema {
	s := obj(map[string]*schema{
		"allowed_capabilities": list(tString), "required_drop_capabilities": list(tString),
		"default_add_capabilities": list(tString)})
	s.check = func(v any) error {
		m := v.(map[string]any)
		allowed, drop, add := strs(m["allowed_capabilities"]), strs(m["required_drop_capabilities"]), strs(m["default_add_capabilities"])
		for _, c := range drop {
			if slices.Contains(allowed, c) || slices.Contains(add, c) {
				return fmt.Errorf("capability %s is both allowed (or added) and required to be dropped", c)
			}
		}
		if !slices.Contains(allowed, "*") {
			for _, c := range add {
				if !slices.Contains(allowed, c) {
					return fmt.Errorf("default_add_capabilities %s is not in allowed_capabilities", c)
				}
			}
		}
		return nil
	}
	return s
}

func userGroup() *schema {
	s := obj(map[string]*schema{
		"run_as_user":                            strategy("MustRunAs", "MustRunAsNonRoot", "RunAsAny"),
		"run_as_group":                           strategy("MustRunAs", "MayRunAs", "RunAsAny"),
		"supplemental_groups":                    strategy("MustRunAs", "MayRunAs", "RunAsAny"),
		"validate_container_image_configuration": tBool,
		"validate_only":                          tBool,
	})
	s.check = func(v any) error {
		m := v.(map[string]any)
		if vo, _ := m["validate_only"].(bool); vo {
			for _, k := range []string{"run_as_user", "run_as_group", "supplemental_groups"} {
				if st, ok := m[k].(map[string]any); ok {
					if ow, _ := st["overwrite"].(bool); ow {
						return fmt.Errorf("validate_only cannot be true when %s.overwrite is true", k)
					}
				}
			}
		}
		return nil
	}
	return s
}

func volumes() *schema {
	s := obj(map[string]*schema{"allowedTypes": list(tString), "ignoreInitContainersVolumes": tBool}, "allowedTypes")
	s.check = func(v any) error {
		types := strs(v.(map[string]any)["allowedTypes"])
		if slices.Contains(types, "*") && len(types) != 1 {
			return fmt.Errorf(`allowedTypes: "*" must be the only entry`)
		}
		for _, t := range types {
			if t != "*" && !slices.Contains(volumeFields, t) {
				return fmt.Errorf("allowedTypes: %q is not a pod volume source field", t)
			}
		}
		return nil
	}
	return s
}

// volumeFields are the volume source fields of core/v1 Volume, which is
// what volumes-psp compares allowedTypes with.
var volumeFields = []string{"hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret",
	"nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
	"downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk",
	"projected", "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image"}

func sysctls() *schema {
	s := obj(map[string]*schema{"allowedUnsafeSysctls": list(tString), "forbiddenSysctls": list(tString)})
	s.check = func(v any) error {
		m := v.(map[string]any)
		allowed, forbidden := strs(m["allowedUnsafeSysctls"]), strs(m["forbiddenSysctls"])
		for _, a := range allowed {
			if strings.Contains(a, "*") {
				return fmt.Errorf("allowedUnsafeSysctls does not take patterns: %q", a)
			}
			if slices.Contains(forbidden, a) {
				return fmt.Errorf("sysctl %q is both allowed and forbidden", a)
			}
		}
		for _, f := range forbidden {
			if i := strings.Index(f, "*"); i >= 0 && i != len(f)-1 {
				return fmt.Errorf("forbiddenSysctls takes `*` only as a suffix: %q", f)
			}
		}
		return nil
	}
	return s
}

func celPolicy() *schema {
	s := obj(map[string]*schema{
		"variables": list(obj(map[string]*schema{"name": tString, "expression": tString}, "name", "expression")),
		"validations": list(obj(map[string]*schema{
			"expression": tString, "message": tString, "messageExpression": tString,
			"reason": enum("Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge")}, "expression")),
		"failurePolicy": enum("Fail", "Ignore"),
		"paramKind":     obj(map[string]*schema{"apiVersion": tString, "kind": tString}),
		"paramRef": obj(map[string]*schema{"name": tString, "namespace": tString,
			"selector": {typ: "object"}, "parameterNotFoundAction": enum("Allow", "Deny")}),
	}, "validations")
	s.check = checkCELSettings
	return s
}

var moduleRE = regexp.MustCompile(`^registry://ghcr\.io/kubewarden/policies/([a-z0-9-]+):(v[0-9]+\.[0-9]+\.[0-9]+)$`)

// checkModule checks a module reference and its settings.
func checkModule(ref string, settings any) []string {
	m := moduleRE.FindStringSubmatch(ref)
	if m == nil {
		return []string{fmt.Sprintf("module %q is not a pinned registry://ghcr.io/kubewarden/policies/NAME:vX.Y.Z reference", ref)}
	}
	mod, ok := modules[m[1]]
	if !ok {
		return []string{fmt.Sprintf("module %s has no documented settings in kwcheck", m[1])}
	}
	if m[2] != mod.version {
		return []string{fmt.Sprintf("module %s: version %s, but the documented settings are those of %s", m[1], m[2], mod.version)}
	}
	if settings == nil {
		settings = map[string]any{}
	}
	return validate("settings", settings, mod.settings)
}

func validate(path string, v any, s *schema) []string {
	var errs []string
	switch s.typ {
	case "bool":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: want a boolean, got %T", path, v)}
		}
	case "int":
		if !isInt(v) {
			return []string{fmt.Sprintf("%s: want an integer, got %v", path, v)}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return []string{fmt.Sprintf("%s: want a string, got %T", path, v)}
		}
		if len(s.enum) > 0 && !slices.Contains(s.enum, str) {
			return []string{fmt.Sprintf("%s: %q is not one of %v", path, str, s.enum)}
		}
	case "list":
		l, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want a list, got %T", path, v)}
		}
		for i, e := range l {
			errs = append(errs, validate(fmt.Sprintf("%s[%d]", path, i), e, s.items)...)
		}
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %T", path, v)}
		}
		if s.props != nil {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				ps, ok := s.props[k]
				if !ok {
					errs = append(errs, fmt.Sprintf("%s.%s: unknown setting", path, k))
					continue
				}
				errs = append(errs, validate(path+"."+k, m[k], ps)...)
			}
		}
		for _, k := range s.required {
			if _, ok := m[k]; !ok {
				errs = append(errs, fmt.Sprintf("%s.%s: required", path, k))
			}
		}
	}
	if len(errs) == 0 && s.check != nil {
		if err := s.check(v); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", path, err))
		}
	}
	return errs
}

func isInt(v any) bool {
	switch n := v.(type) {
	case int, int32, int64:
		return true
	case float64:
		return n == float64(int64(n))
	}
	return false
}

func toInt(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	return 0
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
