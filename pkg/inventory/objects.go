package inventory

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	kjson "sigs.k8s.io/json"

	"github.com/psp-migrate/kubectl-psp-migrate/pkg/manifest"
	"github.com/psp-migrate/kubectl-psp-migrate/pkg/psp"
)

// kindKey identifies a kind regardless of version: older dumps carry
// extensions/v1beta1 Deployments, batch/v1beta1 CronJobs or
// rbac.authorization.k8s.io/v1beta1 bindings, whose fields the audit reads
// are laid out as in the current versions.
type kindKey struct{ group, kind string }

func groupOf(apiVersion string) string {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// FromObjects builds an inventory from decoded manifests. Objects of kinds the
// audit does not use are skipped with one warning per kind. An object that
// cannot be read as its kind, or an invalid PSP, is an error naming its file
// and document.
//
// The same object (kind, namespace and name) read more than once — a file
// given twice, or a dump plus a directory holding some of the same objects —
// is one object: the copy read last is kept and a warning names both places.
func FromObjects(objs []manifest.Object) (*Inventory, error) {
	b := NewBuilder()
	for i := range objs {
		b.Add(objs[i])
		// The typed copy is all the audit needs; let the map go.
		objs[i].Object = nil
	}
	return b.Inventory()
}

// ReadPaths reads the manifests named by paths (see manifest.WalkPaths)
// into an inventory, as FromObjects would, but converting each object to
// its type as soon as it is decoded: the decoded maps of a large dump are
// many times the size of its typed objects, and never all held at once.
// The items of Lists are decoded from their JSON straight into their types
// (manifest.WalkOptions.Raw), a batch at a time on every CPU while the
// next batch is read, and kept in the order read.
func ReadPaths(paths []string, recursive bool, stdin io.Reader) (*Inventory, error) {
	b := NewBuilder()
	p := &pipeline{b: b}
	err := manifest.WalkPathsWith(paths, recursive, stdin, manifest.WalkOptions{Raw: true}, p.add)
	p.flush()
	if err != nil {
		return nil, err
	}
	return b.Inventory()
}

// pipelineBatch is how many objects are decoded together: enough to keep
// every CPU busy, few enough that the objects waiting are a few megabytes.
const pipelineBatch = 256

// pipeline decodes objects (decodeObject) in batches, in parallel, while
// the next batch is read, and applies them to the Builder in the order
// they were read, so that the result is Add's, object by object.
type pipeline struct {
	b        *Builder
	cur      []manifest.Object
	inflight *batch
}

type batch struct {
	objs []manifest.Object
	res  []decoded
	done chan struct{}
}

func (p *pipeline) add(o manifest.Object) error {
	p.cur = append(p.cur, o)
	if len(p.cur) >= pipelineBatch {
		p.launch()
	}
	return nil
}

// launch starts decoding the objects gathered, once the batch before has
// been applied.
func (p *pipeline) launch() {
	p.wait()
	if len(p.cur) == 0 {
		return
	}
	bt := &batch{objs: p.cur, res: make([]decoded, len(p.cur)), done: make(chan struct{})}
	p.cur = make([]manifest.Object, 0, pipelineBatch)
	p.inflight = bt
	go func() {
		defer close(bt.done)
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(runtime.GOMAXPROCS(0), len(bt.objs)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1) - 1); i < len(bt.objs); i = int(next.Add(1) - 1) {
					bt.res[i] = decodeObject(bt.objs[i])
				}
			}()
		}
		wg.Wait()
	}()
}

// wait applies the batch being decoded, if any.
func (p *pipeline) wait() {
	bt := p.inflight
	if bt == nil {
		return
	}
	<-bt.done
	for i := range bt.objs {
		p.b.apply(bt.objs[i], bt.res[i])
	}
	p.inflight = nil
}

// flush decodes and applies every object added.
func (p *pipeline) flush() {
	p.launch()
	p.wait()
}

// Builder builds an inventory from manifest objects added one at a time,
// with FromObjects's rules: a later copy of an object replaces the earlier
// one, and an object that cannot be read fails the build only if no later
// copy replaces it.
type Builder struct {
	inv  *Inventory
	refs []objectRef
	// slots is where each object's typed copy sits in its kind's slice.
	slots map[objectKey]int
	// errs are the objects that could not be read, by key, with the
	// position of that copy: a later copy clears it.
	errs    map[objectKey]seqError
	sources map[string]bool
	unknown unknownFields
}

// objectRef is what the builder remembers of every object it was given,
// for duplicate warnings and skipped kinds, once the object itself is gone.
type objectRef struct {
	key         objectKey
	source      string
	document    int
	item        int
	skippedKind string // "apiVersion kind" when the audit does not read the kind
}

func (r objectRef) location() string {
	if r.item >= 0 {
		return fmt.Sprintf("%s: document %d, item %d", r.source, r.document, r.item)
	}
	return fmt.Sprintf("%s: document %d", r.source, r.document)
}

type seqError struct {
	seq int
	err error
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{
		inv:     &Inventory{origin: map[objectKey]string{}},
		slots:   map[objectKey]int{},
		errs:    map[objectKey]seqError{},
		sources: map[string]bool{},
	}
}

// Add converts o to its type and keeps it, replacing an earlier copy of the
// same object. It keeps no reference to o.Object or o.Raw.
func (b *Builder) Add(o manifest.Object) {
	b.apply(o, decodeObject(o))
}

// decoded is an object converted to its type, not yet kept: decodeObject depends
// on the object alone, so objects may be decoded in parallel and applied
// to the Builder in order.
type decoded struct {
	// put keeps the typed object as the copy of k; nil when the kind is
	// skipped or the object could not be read.
	put     func(inv *Inventory, b *Builder, k objectKey)
	unknown []string
	err     error
	skipped bool
	// runtimeClass says a RuntimeClass was read, readable or not.
	runtimeClass bool
}

// decodeObject converts o to its type.
func decodeObject(o manifest.Object) decoded {
	u := o.Object
	switch (kindKey{groupOf(u.GetAPIVersion()), u.GetKind()}) {
	case kindKey{"policy", "PodSecurityPolicy"}, kindKey{"extensions", "PodSecurityPolicy"}:
		p := &psp.PodSecurityPolicy{}
		unknown, err := decodeTyped(o, p)
		if err == nil && len(unknown) > 0 {
			// A misspelt field in a security policy means its author
			// believes something is enforced that is not.
			err = errors.New(strings.Join(unknown, ", "))
		}
		if err != nil {
			return decoded{err: err}
		}
		if errs := psp.Validate(p); len(errs) > 0 {
			return decoded{err: fmt.Errorf("invalid PodSecurityPolicy: %w", errs.ToAggregate())}
		}
		return decoded{put: func(inv *Inventory, b *Builder, k objectKey) { put(b, &inv.PodSecurityPolicies, k, *p) }}
	case kindKey{"rbac.authorization.k8s.io", "ClusterRole"}:
		return decodeInto(o, func(inv *Inventory) *[]rbacv1.ClusterRole { return &inv.ClusterRoles }, nil)
	case kindKey{"rbac.authorization.k8s.io", "ClusterRoleBinding"}:
		return decodeInto(o, func(inv *Inventory) *[]rbacv1.ClusterRoleBinding { return &inv.ClusterRoleBindings }, nil)
	case kindKey{"rbac.authorization.k8s.io", "Role"}:
		return decodeInto(o, func(inv *Inventory) *[]rbacv1.Role { return &inv.Roles }, nil)
	case kindKey{"rbac.authorization.k8s.io", "RoleBinding"}:
		return decodeInto(o, func(inv *Inventory) *[]rbacv1.RoleBinding { return &inv.RoleBindings }, nil)
	case kindKey{"", "ServiceAccount"}:
		return decodeInto(o, func(inv *Inventory) *[]corev1.ServiceAccount { return &inv.ServiceAccounts }, nil)
	case kindKey{"", "Namespace"}:
		return decodeInto(o, func(inv *Inventory) *[]corev1.Namespace { return &inv.Namespaces }, nil)
	case kindKey{"", "Pod"}:
		return decodeInto(o, func(inv *Inventory) *[]corev1.Pod { return &inv.Pods }, SlimPod)
	case kindKey{"", "ReplicationController"}:
		return decodeInto(o, func(inv *Inventory) *[]corev1.ReplicationController { return &inv.ReplicationControllers }, nil)
	case kindKey{"apps", "ReplicaSet"}, kindKey{"extensions", "ReplicaSet"}:
		return decodeInto(o, func(inv *Inventory) *[]appsv1.ReplicaSet { return &inv.ReplicaSets }, nil)
	case kindKey{"apps", "Deployment"}, kindKey{"extensions", "Deployment"}:
		return decodeInto(o, func(inv *Inventory) *[]appsv1.Deployment { return &inv.Deployments }, nil)
	case kindKey{"apps", "StatefulSet"}:
		return decodeInto(o, func(inv *Inventory) *[]appsv1.StatefulSet { return &inv.StatefulSets }, nil)
	case kindKey{"apps", "DaemonSet"}, kindKey{"extensions", "DaemonSet"}:
		return decodeInto(o, func(inv *Inventory) *[]appsv1.DaemonSet { return &inv.DaemonSets }, nil)
	case kindKey{"batch", "Job"}:
		return decodeInto(o, func(inv *Inventory) *[]batchv1.Job { return &inv.Jobs }, nil)
	case kindKey{"batch", "CronJob"}:
		return decodeInto(o, func(inv *Inventory) *[]batchv1.CronJob { return &inv.CronJobs }, nil)
	case kindKey{"node.k8s.io", "RuntimeClass"}:
		d := decodeInto(o, func(inv *Inventory) *[]nodev1.RuntimeClass { return &inv.RuntimeClasses }, nil)
		d.runtimeClass = true
		return d
	}
	return decoded{skipped: true}
}

// apply keeps what decodeObject made of o, in the order objects were read.
func (b *Builder) apply(o manifest.Object, d decoded) {
	u := o.Object
	k := keyOf(u)
	ref := objectRef{key: k, source: o.Source, document: o.Document, item: o.Item}
	seq := len(b.refs)
	b.sources[o.Source] = true
	b.inv.origin[k] = o.Source
	delete(b.errs, k)
	if d.skipped {
		ref.skippedKind = u.GetAPIVersion() + " " + u.GetKind()
	}
	if d.err == nil && d.put != nil {
		b.unknown.add(&o)(d.unknown)
		d.put(b.inv, b, k)
	}
	if d.runtimeClass {
		b.inv.RuntimeClassesKnown = true
	}
	if d.err != nil {
		b.errs[k] = seqError{seq, fmt.Errorf("%s: %w", o.Location(), d.err)}
	}
	b.refs = append(b.refs, ref)
}

// Inventory returns what was added: the first object (in the order added)
// that could not be read and was not replaced is an error.
func (b *Builder) Inventory() (*Inventory, error) {
	if len(b.errs) > 0 {
		first := seqError{seq: len(b.refs)}
		for _, e := range b.errs {
			if e.seq < first.seq {
				first = e
			}
		}
		return nil, first.err
	}
	inv := b.inv
	keep, dupWarnings := dedupe(b.refs)
	skipped := map[string]int{}
	for i, r := range b.refs {
		if keep[i] && r.skippedKind != "" {
			skipped[r.skippedKind]++
		}
	}
	kinds := make([]string, 0, len(skipped))
	for k := range skipped {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		inv.Warnings = append(inv.Warnings, fmt.Sprintf("skipped %d object(s) of kind %s: not used by the audit", skipped[k], k))
	}
	inv.Warnings = append(inv.Warnings, b.unknown.warnings()...)
	inv.Warnings = append(inv.Warnings, dupWarnings...)
	for s := range b.sources {
		inv.Sources = append(inv.Sources, s)
	}
	sort.Strings(inv.Sources)
	inv.Sort()
	return inv, nil
}

// put keeps v as the copy of k, in place of an earlier copy.
func put[T any](b *Builder, dst *[]T, k objectKey, v T) {
	if i, ok := b.slots[k]; ok {
		(*dst)[i] = v
		return
	}
	b.slots[k] = len(*dst)
	*dst = append(*dst, v)
}

// decodeInto converts o into T, slimmed when slim is not nil. Unknown fields
// are tolerated (a dump from a newer cluster may carry fields this build
// does not know) and reported, since a misspelling such as securityContxt
// hides a setting the audit would otherwise judge; wrongly typed fields are
// an error naming the field.
func decodeInto[T any](o manifest.Object, dst func(*Inventory) *[]T, slim func(*T)) decoded {
	var v T
	fields, err := decodeTyped(o, &v)
	if err != nil {
		return decoded{err: err}
	}
	if slim != nil {
		slim(&v)
	}
	return decoded{unknown: fields, put: func(inv *Inventory, b *Builder, k objectKey) { put(b, dst(inv), k, v) }}
}

// decodeTyped is manifest.DecodeObject for o, decoding o.Raw straight
// into v when o came as JSON. That fast path is taken only when it finds
// nothing to report: an object with a wrong type or an unknown field is
// decoded again the usual way, from its map, so that errors and unknown
// fields are worded, ordered and located exactly as DecodeObject words
// them. (The JSON was checked for syntax and repeated keys already.)
func decodeTyped[T any](o manifest.Object, v *T) (unknown []string, err error) {
	if o.Raw == nil {
		return manifest.DecodeObject(o.Object.Object, v)
	}
	strict, err := kjson.UnmarshalStrict(o.Raw, v, kjson.DisallowUnknownFields)
	if err == nil && len(strict) == 0 {
		return nil, nil
	}
	u, err := manifest.ParseRaw(o)
	if err != nil {
		return nil, err
	}
	var fresh T
	unknown, err = manifest.DecodeObject(u.Object, &fresh)
	*v = fresh
	return unknown, err
}

// canonicalKinds maps the legacy groups of kinds the audit reads to their
// current group, so that extensions/v1beta1 and apps/v1 copies of one
// Deployment are the same object.
var canonicalKinds = map[kindKey]kindKey{
	{"extensions", "PodSecurityPolicy"}: {"policy", "PodSecurityPolicy"},
	{"extensions", "ReplicaSet"}:        {"apps", "ReplicaSet"},
	{"extensions", "Deployment"}:        {"apps", "Deployment"},
	{"extensions", "DaemonSet"}:         {"apps", "DaemonSet"},
}

// clusterScoped are the kinds read whose namespace is meaningless: a stray
// metadata.namespace must not make two copies of one PSP look distinct.
var clusterScoped = map[kindKey]bool{
	{"policy", "PodSecurityPolicy"}:                     true,
	{"rbac.authorization.k8s.io", "ClusterRole"}:        true,
	{"rbac.authorization.k8s.io", "ClusterRoleBinding"}: true,
	{"", "Namespace"}:                                   true,
	{"node.k8s.io", "RuntimeClass"}:                     true,
}

// objectKey identifies an object whatever file or API version it came from.
type objectKey struct {
	kind            kindKey
	namespace, name string
}

func keyOf(u interface {
	GetAPIVersion() string
	GetKind() string
	GetNamespace() string
	GetName() string
}) objectKey {
	k := kindKey{groupOf(u.GetAPIVersion()), u.GetKind()}
	if c, ok := canonicalKinds[k]; ok {
		k = c
	}
	ns := u.GetNamespace()
	if clusterScoped[k] {
		ns = ""
	}
	return objectKey{kind: k, namespace: ns, name: u.GetName()}
}

// String renders the key for messages: `Pod "ns/name"`, `PodSecurityPolicy "p"`.
func (k objectKey) String() string {
	if k.namespace == "" {
		return fmt.Sprintf("%s %q", k.kind.kind, k.name)
	}
	return fmt.Sprintf("%s %q", k.kind.kind, k.namespace+"/"+k.name)
}

// dedupe marks, for every object read more than once, all copies but the
// last for dropping, and words one warning per pair of sources (not one
// per object: a dump overlapping a directory repeats thousands of them).
func dedupe(objs []objectRef) (keep []bool, warnings []string) {
	keep = make([]bool, len(objs))
	last := make(map[objectKey]int, len(objs))
	for i := range objs {
		last[objs[i].key] = i
	}
	type pair struct{ earlier, later string }
	type dup struct {
		count   int
		example string
		// samePlace stays true while every copy is the same document of
		// the same file: the file itself was given twice.
		samePlace bool
	}
	dups := map[pair]*dup{}
	for i := range objs {
		k := objs[i].key
		j := last[k]
		if j == i {
			keep[i] = true
			continue
		}
		p := pair{objs[i].source, objs[j].source}
		d := dups[p]
		if d == nil {
			d = &dup{example: fmt.Sprintf("%s at %s and at %s",
				k, objs[i].location(), objs[j].location()), samePlace: true}
			dups[p] = d
		}
		d.count++
		d.samePlace = d.samePlace && objs[i].location() == objs[j].location()
	}
	// Copies within one file first, then copies across files, grouped by
	// the side with fewer distinct files: `-f dump.yaml -f psps/` repeats
	// one file's objects in many, and is one warning, not one per PSP.
	var cross []pair
	for p, d := range dups {
		if p.earlier != p.later {
			cross = append(cross, p)
			continue
		}
		if d.samePlace {
			warnings = append(warnings, fmt.Sprintf("%s was read more than once; its %d object(s) are counted once", p.earlier, d.count))
		} else {
			warnings = append(warnings, fmt.Sprintf("%d object(s) read more than once from %s (e.g. %s); each is counted once, the copy read last wins",
				d.count, p.earlier, d.example))
		}
	}
	sort.Strings(warnings)
	earlier, later := map[string]bool{}, map[string]bool{}
	for _, p := range cross {
		earlier[p.earlier], later[p.later] = true, true
	}
	byLater := len(later) <= len(earlier)
	type group struct {
		others  []string
		count   int
		example string
	}
	groups := map[string]*group{}
	for _, p := range cross {
		key, other := p.earlier, p.later
		if byLater {
			key, other = p.later, p.earlier
		}
		g := groups[key]
		if g == nil {
			g = &group{}
			groups[key] = g
		}
		g.others = append(g.others, other)
		g.count += dups[p].count
	}
	keys := make([]string, 0, len(groups))
	for k, g := range groups {
		keys = append(keys, k)
		sort.Strings(g.others)
		// The example comes from the first pair in file order, so that
		// the warning does not depend on map iteration.
		p := pair{k, g.others[0]}
		if byLater {
			p = pair{g.others[0], k}
		}
		g.example = dups[p].example
	}
	sort.Strings(keys)
	for _, k := range keys {
		g := groups[k]
		others := listFiles(g.others)
		if byLater {
			warnings = append(warnings, fmt.Sprintf("%d object(s) read from both %s and %s (e.g. %s); each is counted once, the copy from %s wins",
				g.count, others, k, g.example, k))
			continue
		}
		winner := others
		if len(g.others) > 1 {
			winner = "the later file"
		}
		warnings = append(warnings, fmt.Sprintf("%d object(s) read from both %s and %s (e.g. %s); each is counted once, the copy from %s wins",
			g.count, k, others, g.example, winner))
	}
	return keep, warnings
}

// listFiles names up to three files, then how many more.
func listFiles(files []string) string {
	const shown = 3
	if len(files) <= shown {
		return strings.Join(files, ", ")
	}
	return strings.Join(files[:shown], ", ") + fmt.Sprintf(" (+%d more files)", len(files)-shown)
}

// unknownFields gathers the unknown fields of the objects read, so that one
// new field on a thousand pods is one warning.
type unknownFields struct {
	order []string
	count map[string]int
	first map[string]string
}

// add returns the reporter for object o.
func (u *unknownFields) add(o *manifest.Object) func([]string) {
	return func(fields []string) {
		if len(fields) == 0 {
			return
		}
		if u.count == nil {
			u.count, u.first = map[string]int{}, map[string]string{}
		}
		for _, f := range fields {
			key := o.Object.GetKind() + " " + f
			if u.count[key] == 0 {
				u.order = append(u.order, key)
				u.first[key] = o.Location()
			}
			u.count[key]++
		}
	}
}

func (u *unknownFields) warnings() []string {
	var out []string
	for _, key := range u.order {
		kind, field, _ := strings.Cut(key, " ")
		if n := u.count[key]; n > 1 {
			out = append(out, fmt.Sprintf("%s and %d other %s(s): %s, ignored (misspelt, or newer than this build)", u.first[key], n-1, kind, field))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s, ignored (misspelt, or newer than this build)", u.first[key], field))
	}
	return out
}
