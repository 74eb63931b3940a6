package live

import (
	"bytes"
	"context"
	"errors"
	"net"
	"reflect"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// protoList is a built-in list type that decodes itself from protobuf.
type protoList[L any] interface {
	*L
	runtime.Object
	Unmarshal([]byte) error
}

// pageReader lists one resource type a page at a time, reading each page's
// body into a buffer kept from page to page and decoding the protobuf list
// from it in place. client-go's typed List reads every page with
// io.ReadAll, which grows a new buffer by doubling, then copies the list
// out of its envelope before decoding it: on a 10,000-pod cluster those
// copies were a quarter of what a live audit allocated, and so of the
// collector's work. The decoded objects copy what they keep.
//
// It also asks for the next page as soon as a page's body is in, before
// decoding it: the continue token is at the head of the list. Paging one
// request after the other, the server waited while the client decoded a
// page and the client while the server made the next; the pods' list, the
// longest of a live read, pays that on each of its pages.
//
// Failures keep the typed client's behaviour: an error the API server
// answered (403, 404, 410, 429 after its retries) is the same error, built
// by the same code, and any other failure (the connection, the body cut
// short, a body that is not a protobuf list) is retried once through the
// typed client itself, which also retries lost connections on GETs; but a
// page past --request-timeout fails at once, as the typed client's would
// (see final). A page asked for ahead that fails is asked for again when
// its turn comes, so its error is that of a request made in turn.
type pageReader[L any, PL protoList[L]] struct {
	client    rest.Interface
	resource  string
	namespace string
	typed     func(context.Context, metav1.ListOptions) (runtime.Object, error)
	slim      slimmer
	// base and timeout bound a page asked for ahead, which outlives the
	// call that asks for it (the read's context, the lister's page
	// timeout).
	base    context.Context
	timeout time.Duration
	// spare is the buffer the next page is read into; the page being
	// decoded has the other.
	spare *bytes.Buffer
	ahead *prefetch
}

// prefetch is a page asked for ahead of its turn.
type prefetch struct {
	opts   metav1.ListOptions
	cancel context.CancelFunc
	done   chan struct{}
	body   *bytes.Buffer
	err    error
}

// pagesOf returns the page function for resource (plural, lowercase) of
// client's group version: the in-place reader when client is a real REST
// client, typed itself otherwise (a fake clientset in tests). dropStatus
// says the objects' field 3 is a status no command reads (pods and
// controllers; not so for RBAC roles, whose field 3 is a rule). Pages
// asked for ahead are bounded by l's context and page timeout.
func pagesOf[L any, PL protoList[L]](l *lister, client rest.Interface, resource, namespace string, dropStatus bool, typed func(context.Context, metav1.ListOptions) (runtime.Object, error)) func(context.Context, metav1.ListOptions) (runtime.Object, error) {
	if rc, ok := client.(*rest.RESTClient); !ok || rc == nil {
		return typed
	}
	r := &pageReader[L, PL]{client: client, resource: resource, namespace: namespace, typed: typed,
		base: l.ctx, timeout: l.pageTimeout}
	r.slim.dropStatus = dropStatus
	_, r.slim.podSpec = any(PL(nil)).(*corev1.PodList)
	return r.page
}

func (r *pageReader[L, PL]) page(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	body, err := r.take(ctx, opts)
	if err != nil {
		if _, answered := err.(apierrors.APIStatus); answered || final(ctx, err) {
			return nil, err
		}
		return r.typed(ctx, opts)
	}
	list := PL(new(L))
	if raw, ok := protobufList(body.Bytes()); ok {
		if next := listContinue(raw); next != "" && opts.Limit > 0 {
			o := opts
			o.Continue = next
			r.askAhead(o)
		}
		err = r.slim.unmarshal(raw, list)
	} else {
		err = decodeWhole(body.Bytes(), list)
	}
	// The buffer is the next prefetch's, unless one huge page grew it.
	if body.Cap() <= 64<<20 {
		r.spare = body
	}
	if err != nil {
		return r.typed(ctx, opts)
	}
	return list, nil
}

// take returns the body of the page opts asks for: the one asked for ahead
// when it is that page and came whole, else read now into the spare
// buffer.
func (r *pageReader[L, PL]) take(ctx context.Context, opts metav1.ListOptions) (*bytes.Buffer, error) {
	if a := r.ahead; a != nil {
		r.ahead = nil
		select {
		case <-a.done:
		case <-ctx.Done():
			a.cancel()
			<-a.done
			r.spare = a.body
			return nil, ctx.Err()
		}
		a.cancel()
		if a.err == nil && reflect.DeepEqual(a.opts, opts) {
			return a.body, nil
		}
		r.spare = a.body
	}
	body := r.buffer()
	err := r.read(ctx, opts, body)
	return body, err
}

// buffer hands out the spare buffer, or a new one when a page in flight
// has it.
func (r *pageReader[L, PL]) buffer() *bytes.Buffer {
	b := r.spare
	r.spare = nil
	if b == nil {
		b = &bytes.Buffer{}
	}
	return b
}

// askAhead starts reading the page opts asks for into the spare buffer.
func (r *pageReader[L, PL]) askAhead(opts metav1.ListOptions) {
	ctx, cancel := context.WithTimeout(r.base, r.timeout)
	a := &prefetch{opts: opts, cancel: cancel, done: make(chan struct{}), body: r.buffer()}
	r.ahead = a
	go func() {
		defer close(a.done)
		a.err = r.read(ctx, opts, a.body)
	}()
}

// read asks for one page and reads its body into buf.
func (r *pageReader[L, PL]) read(ctx context.Context, opts metav1.ListOptions, buf *bytes.Buffer) error {
	var timeout time.Duration
	if opts.TimeoutSeconds != nil {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	body, err := r.client.Get().
		NamespaceIfScoped(r.namespace, r.namespace != "").
		Resource(r.resource).
		VersionedParams(&opts, scheme.ParameterCodec).
		Timeout(timeout).
		Stream(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	buf.Reset()
	_, err = buf.ReadFrom(body)
	return err
}

// final reports whether a page's failure is not worth a second request:
// the page's context is done, or the request ran past --request-timeout
// (the typed client would wait as long again).
func final(ctx context.Context, err error) bool {
	var netErr net.Error
	return ctx.Err() != nil || (errors.As(err, &netErr) && netErr.Timeout())
}

// protobufPrefix starts every protobuf body of the API server (the
// apimachinery protobuf serializer's magic number).
var protobufPrefix = []byte{0x6b, 0x38, 0x73, 0x00}

// unmarshaler is a built-in list type's own protobuf decoding.
type unmarshaler interface {
	runtime.Object
	Unmarshal([]byte) error
}

// decodeList decodes data, a page's body, into list, which must be empty,
// as page does: a protobuf list in place, leaving out what slim drops; a
// body of any other form, or an envelope envelopeRaw does not take, whole
// by the scheme's deserializer, as the typed client would.
func decodeList(data []byte, list unmarshaler, slim *slimmer) error {
	if raw, ok := protobufList(data); ok {
		return slim.unmarshal(raw, list)
	}
	return decodeWhole(data, list)
}

// protobufList returns the list in a protobuf body (the prefix, then a
// runtime.Unknown envelope around it), without copying it.
func protobufList(data []byte) (raw []byte, ok bool) {
	if !bytes.HasPrefix(data, protobufPrefix) {
		return nil, false
	}
	return envelopeRaw(data[len(protobufPrefix):])
}

// unmarshal decodes the protobuf list raw into list, slimmed first when
// raw is well-formed.
func (s *slimmer) unmarshal(raw []byte, list unmarshaler) error {
	if slimmed, ok := s.list(raw); ok {
		raw = slimmed
	}
	return list.Unmarshal(raw)
}

// decodeWhole decodes a body through the scheme's deserializer.
func decodeWhole(data []byte, list runtime.Object) error {
	if _, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, list); err != nil {
		return err
	}
	// As the typed client returns its lists: without their kind.
	list.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
	return nil
}

// slimmer copies a protobuf list without the fields of its objects that
// no command reads, so that they are never decoded: every object's managed
// fields (metadata field 17), a tenth of what a live read decoded on the
// 10,000-pod bench, with dropStatus the objects' status (field 3), and
// with podSpec what slimSpec drops from a pod's containers.
// Its buffers are kept from page to page. What it leaves is decoded
// exactly as it would have been, so the result is the whole decode with
// those fields empty, as the slim functions make it anyway.
type slimmer struct {
	dropStatus bool
	// podSpec: the objects are pods, whose containers also go without
	// their environment, commands and resources (as slimSpec drops them).
	podSpec                   bool
	out, obj, meta, spec, ctr []byte
}

// list returns the slimmed copy of raw, a protobuf list (field 2: the
// items); ok is false when raw is not well-formed, to be decoded as it is.
func (s *slimmer) list(raw []byte) (out []byte, ok bool) {
	out = s.out[:0]
	for len(raw) > 0 {
		num, typ, field, value, rest, ok := nextField(raw)
		if !ok {
			return nil, false
		}
		raw = rest
		if num != 2 || typ != protowire.BytesType {
			out = append(out, field...)
			continue
		}
		obj, ok := s.object(value)
		if !ok {
			return nil, false
		}
		out = protowire.AppendTag(out, 2, protowire.BytesType)
		out = protowire.AppendBytes(out, obj)
	}
	s.out = out
	return out, true
}

func (s *slimmer) object(b []byte) (out []byte, ok bool) {
	out = s.obj[:0]
	for len(b) > 0 {
		num, typ, field, value, rest, ok := nextField(b)
		if !ok {
			return nil, false
		}
		b = rest
		switch {
		case typ != protowire.BytesType:
			out = append(out, field...)
		case num == 3 && s.dropStatus:
		case num == 2 && s.podSpec:
			spec, ok := s.podSpecOf(value)
			if !ok {
				return nil, false
			}
			out = protowire.AppendTag(out, 2, protowire.BytesType)
			out = protowire.AppendBytes(out, spec)
		case num == 1:
			meta, ok := withoutFields(s.meta[:0], value, managedFields)
			if !ok {
				return nil, false
			}
			s.meta = meta
			out = protowire.AppendTag(out, 1, protowire.BytesType)
			out = protowire.AppendBytes(out, meta)
		default:
			out = append(out, field...)
		}
	}
	s.obj = out
	return out, true
}

// podSpecOf copies a PodSpec with its containers and init containers
// (fields 2 and 20) less their command (3), args (4), workingDir (5), env
// (7), resources (8) and envFrom (19).
func (s *slimmer) podSpecOf(b []byte) (out []byte, ok bool) {
	out = s.spec[:0]
	for len(b) > 0 {
		num, typ, field, value, rest, ok := nextField(b)
		if !ok {
			return nil, false
		}
		b = rest
		if typ != protowire.BytesType || (num != 2 && num != 20) {
			out = append(out, field...)
			continue
		}
		ctr, ok := withoutFields(s.ctr[:0], value, containerUnread)
		if !ok {
			return nil, false
		}
		s.ctr = ctr
		out = protowire.AppendTag(out, num, protowire.BytesType)
		out = protowire.AppendBytes(out, ctr)
	}
	s.spec = out
	return out, true
}

// The length-delimited fields slimmer leaves out: an ObjectMeta's
// managedFields; a Container's command, args, workingDir, env, resources
// and envFrom.
var (
	managedFields   = map[protowire.Number]bool{17: true}
	containerUnread = map[protowire.Number]bool{3: true, 4: true, 5: true, 7: true, 8: true, 19: true}
)

// withoutFields appends to dst the fields of the message b but the
// length-delimited ones numbered in drop; ok is false when b is not
// well-formed.
func withoutFields(dst, b []byte, drop map[protowire.Number]bool) (out []byte, ok bool) {
	for len(b) > 0 {
		num, typ, field, _, rest, ok := nextField(b)
		if !ok {
			return nil, false
		}
		b = rest
		if typ != protowire.BytesType || !drop[num] {
			dst = append(dst, field...)
		}
	}
	return dst, true
}

// nextField splits the first field off b: its number and type, the whole
// field as encoded, its value when length-delimited, and what follows.
func nextField(b []byte) (num protowire.Number, typ protowire.Type, field, value, rest []byte, ok bool) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return 0, 0, nil, nil, nil, false
	}
	var m int
	if typ == protowire.BytesType {
		value, m = protowire.ConsumeBytes(b[n:])
	} else {
		m = protowire.ConsumeFieldValue(num, typ, b[n:])
	}
	if m < 0 {
		return 0, 0, nil, nil, nil, false
	}
	return num, typ, b[:n+m], value, b[n+m:], true
}

// listContinue returns the continue token of the protobuf list raw (the
// list's metadata, field 1, its field 3), "" when it has none.
func listContinue(raw []byte) string {
	for len(raw) > 0 {
		num, typ, _, value, rest, ok := nextField(raw)
		if !ok {
			return ""
		}
		raw = rest
		if num != 1 || typ != protowire.BytesType {
			continue
		}
		for len(value) > 0 {
			num, typ, _, v, rest, ok := nextField(value)
			if !ok {
				return ""
			}
			value = rest
			if num == 3 && typ == protowire.BytesType {
				return string(v)
			}
		}
		// The metadata comes first; the items need not be walked.
		return ""
	}
	return ""
}

// envelopeRaw returns the raw field of a runtime.Unknown (field 2) without
// copying it; the last one wins, as in any protobuf message, and none is
// an empty list. ok is false for anything but a plain, well-formed
// envelope: fields 1 to 4 each of length-delimited type, other fields
// varints or length-delimited.
func envelopeRaw(b []byte) (raw []byte, ok bool) {
	raw = []byte{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false
		}
		b = b[n:]
		switch {
		case typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, false
			}
			b = b[n:]
			if num == 2 {
				raw = v
			}
		case num <= 4 || typ != protowire.VarintType:
			return nil, false
		default:
			_, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, false
			}
			b = b[n:]
		}
	}
	return raw, true
}
