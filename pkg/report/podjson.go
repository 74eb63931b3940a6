package report

import (
	"bytes"
	"unsafe"
)

// Pods of one shape share their verdicts (the audit evaluates a shape once),
// and those verdicts are most of each pod's JSON. A pod is encoded as its
// head (the fields before its verdicts) and its verdicts' JSON, indented
// once for the pods that share them: replicas are next to each other in
// the report, so a few verdicts remembered are enough. The output is what
// encoding the whole Pod gives (TestWriteJSONMatchesMarshalIndent).

// podHead is Pod up to its verdicts, with Pod's tags (TestPodHeadFields).
type podHead struct {
	Namespace      string     `json:"namespace"`
	Name           string     `json:"name"`
	ServiceAccount string     `json:"serviceAccount"`
	Owner          *ObjectRef `json:"owner"`
	Workload       ObjectRef  `json:"workload"`
	Static         bool       `json:"static,omitempty"`
}

// Indentation of a pod in the report's pods list, and of its fields.
const (
	podPrefix   = "    "
	fieldPrefix = podPrefix + "  "
	podEnd      = "\n" + podPrefix + "}"
)

// pssKey identifies a PSSResult without reading its reasons: results that
// share their reasons' arrays (one verdict's copies) have equal keys, and
// equal keys mean equal JSON, since verdicts are not changed once made.
type pssKey struct {
	version, level       string
	baseline, restricted levelKey
}

type levelKey struct {
	allowed, null bool
	reasons       *PSSReason
	n             int
}

func keyOfLevel(l *PSSLevel) levelKey {
	return levelKey{allowed: l.Allowed, null: l.Reasons == nil, reasons: unsafe.SliceData(l.Reasons), n: len(l.Reasons)}
}

// verdictsRemembered is how many verdicts of each kind an encoder keeps
// the JSON of.
const verdictsRemembered = 8

type cachedPSS struct {
	key   pssKey
	json  []byte
	valid bool
}

type cachedPSP struct {
	key  *PSPVerdict
	json []byte
}

// verdictCache is an encoder's memory of the verdicts it encoded last,
// indented as a pod's fields. forget keeps the buffers.
type verdictCache struct {
	pss     [verdictsRemembered]cachedPSS
	psp     [verdictsRemembered]cachedPSP
	nextPSS int
	nextPSP int
}

// forget drops every verdict remembered, keeping their buffers.
func (c *verdictCache) forget() {
	for i := range c.pss {
		c.pss[i].valid = false
		c.pss[i].key = pssKey{}
	}
	for i := range c.psp {
		c.psp[i].key = nil
	}
}

// encodePod appends p to e.out as encoding the whole Pod and indenting it
// under podPrefix would.
func (e *elementEncoder) encodePod(p *Pod) error {
	head := podHead{p.Namespace, p.Name, p.ServiceAccount, p.Owner, p.Workload, p.Static}
	compact, err := e.compact(&head)
	if err != nil {
		return err
	}
	e.out = appendIndented(e.out, compact, podPrefix, "  ")
	e.out = e.out[:len(e.out)-len(podEnd)]
	pss, err := e.pssJSON(&p.PSS)
	if err != nil {
		return err
	}
	e.out = append(e.out, ",\n"+fieldPrefix+`"pss": `...)
	e.out = append(e.out, pss...)
	psp, err := e.pspJSON(p.PSP)
	if err != nil {
		return err
	}
	e.out = append(e.out, ",\n"+fieldPrefix+`"psp": `...)
	e.out = append(e.out, psp...)
	if len(p.Policies) > 0 {
		compact, err := e.compact(p.Policies)
		if err != nil {
			return err
		}
		e.out = append(e.out, ",\n"+fieldPrefix+`"policies": `...)
		e.out = appendIndented(e.out, compact, fieldPrefix, "  ")
	}
	e.out = append(e.out, podEnd...)
	return nil
}

// compact encodes v with the element encoder, without Encode's new line.
func (e *elementEncoder) compact(v any) ([]byte, error) {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")), nil
}

func (e *elementEncoder) pssJSON(r *PSSResult) ([]byte, error) {
	key := pssKey{version: r.Version, level: r.Level, baseline: keyOfLevel(&r.Baseline), restricted: keyOfLevel(&r.Restricted)}
	c := &e.verdicts
	for i := range c.pss {
		if c.pss[i].valid && c.pss[i].key == key {
			return c.pss[i].json, nil
		}
	}
	compact, err := e.compact(r)
	if err != nil {
		return nil, err
	}
	// The forgotten verdict's buffer takes the new one's JSON.
	out := appendIndented(c.pss[c.nextPSS].json[:0], compact, fieldPrefix, "  ")
	c.pss[c.nextPSS] = cachedPSS{key, out, true}
	c.nextPSS = (c.nextPSS + 1) % verdictsRemembered
	return out, nil
}

func (e *elementEncoder) pspJSON(v *PSPVerdict) ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	c := &e.verdicts
	for i := range c.psp {
		if c.psp[i].key == v {
			return c.psp[i].json, nil
		}
	}
	compact, err := e.compact(v)
	if err != nil {
		return nil, err
	}
	out := appendIndented(c.psp[c.nextPSP].json[:0], compact, fieldPrefix, "  ")
	c.psp[c.nextPSP] = cachedPSP{v, out}
	c.nextPSP = (c.nextPSP + 1) % verdictsRemembered
	return out, nil
}
