package entra

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/turbot/steampipe-plugin-sdk/v5/plugin"
	"github.com/turbot/steampipe-plugin-sdk/v5/plugin/quals"
)

// Sign-in kinds, as Graph names them in signInEventTypes.
const (
	interactiveUser    = "interactiveUser"
	nonInteractiveUser = "nonInteractiveUser"
	servicePrincipal   = "servicePrincipal"
	managedIdentity    = "managedIdentity"
)

var allEventTypes = []string{interactiveUser, nonInteractiveUser, servicePrincipal, managedIdentity}

// signInTable builds a sign-in table that reads the given kinds. Every
// sign-in table has the same columns, key columns and fetch path.
func signInTable(name, description string, eventTypes ...string) *plugin.Table {
	return &plugin.Table{
		Name:        name,
		Description: description,
		List: &plugin.ListConfig{
			Hydrate:    listSignIns(eventTypes),
			KeyColumns: signInKeyColumns(len(eventTypes) > 1),
		},
		Get: &plugin.GetConfig{
			Hydrate:    getSignIn(eventTypes),
			KeyColumns: plugin.SingleColumn("id"),
			IgnoreConfig: &plugin.IgnoreConfig{
				ShouldIgnoreErrorFunc: func(_ context.Context, _ *plugin.QueryData, _ *plugin.HydrateData, err error) bool {
					return isNotFound(err)
				},
			},
		},
		Columns: signInColumns(),
	}
}

func listSignIns(eventTypes []string) plugin.HydrateFunc {
	return func(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (any, error) {
		keyQuals, mine := withINLists(d)
		if !mine {
			return nil, nil
		}
		q := translate(keyQuals, d.QueryContext.UnsafeQuals, eventTypes)
		if q.empty {
			return nil, nil
		}
		if err := q.checkWindow(time.Now()); err != nil {
			return nil, err
		}
		c, err := connectionClient(ctx, d)
		if err != nil {
			return nil, err
		}
		top := pageSize
		if limit := d.QueryContext.Limit; limit != nil && q.pushedAll && *limit > 0 && *limit < pageSize {
			top = int(*limit)
		}
		f := newFetcher(c, top, func(rec *signIn) bool {
			if q.matches(rec) {
				d.StreamListItem(ctx, rec)
			}
			return d.RowsRemaining(ctx) > 0
		})
		f.limiter = func(ctx context.Context) { d.WaitForListRateLimit(ctx) }
		return nil, f.scan(ctx, q)
	}
}

// withINLists undoes the SDK's split of an IN list into one List call per
// value: Graph takes the whole list as an "or" in one request. The call for
// the list's first value reads for all of them; the calls for the other
// values have nothing to do (false).
func withINLists(d *plugin.QueryData) (plugin.KeyColumnQualMap, bool) {
	out := make(plugin.KeyColumnQualMap, len(d.Quals))
	for col, kq := range d.Quals {
		out[col] = kq
		if len(kq.Quals) != 1 || kq.Quals[0].Operator != "=" {
			continue
		}
		for _, uq := range d.QueryContext.UnsafeQuals[col].GetQuals() {
			list := uq.GetValue().GetListValue()
			if uq.GetStringValue() != "=" || list == nil {
				continue
			}
			for i, v := range list.Values {
				if v != kq.Quals[0].Value { // the SDK passes the list's own element
					continue
				}
				if i > 0 {
					return nil, false
				}
				out[col] = &plugin.KeyColumnQuals{Name: col, Quals: quals.QualSlice{{Column: col, Operator: "=", Value: uq.GetValue()}}}
			}
		}
	}
	return out, true
}

// signInID is the shape of a sign-in id (a request id, a GUID).
var signInID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func getSignIn(eventTypes []string) plugin.HydrateFunc {
	return func(ctx context.Context, d *plugin.QueryData, _ *plugin.HydrateData) (any, error) {
		id := d.EqualsQualString("id")
		if !signInID.MatchString(id) {
			return nil, fmt.Errorf("id %q is not a sign-in id: sign-in ids are GUIDs such as 5e5e5e5e-0000-4000-8000-000000000000 (a request id, not a user id)", id)
		}
		c, err := connectionClient(ctx, d)
		if err != nil {
			return nil, err
		}
		var rec *signIn
		err = newFetcher(c, 1, nil).send(ctx, c.graphRoot+"/beta/auditLogs/signIns/"+url.PathEscape(id), func(resp *http.Response) error {
			var err error
			rec, err = decodeSignIn(resp.Body, c.tenantID)
			return err
		})
		if err != nil {
			if isNotFound(err) {
				return nil, err
			}
			return nil, c.explain(err, nil)
		}
		// A table shows only its own kinds.
		if len(intersect(rec.SignInEventTypes, eventTypes)) == 0 {
			return nil, nil
		}
		return rec, nil
	}
}
