package demo

import (
	"fmt"
	"math/rand/v2"

	"github.com/ehealthplus/ehealth/internal/registry"
	"github.com/ehealthplus/ehealth/internal/resource"
)

// provider is a generated healthcare provider: its Organization, its
// service locations and its professionals' roles.
type provider struct {
	id, kind, name string
	district       int // -1: territory-wide
	public         bool
	locations      []string            // Location ids
	roles          map[string][]string // profession → PractitionerRole ids
}

// role picks one of the provider's roles of a profession ("" when none).
func (p *provider) role(r *rand.Rand, profession string) string {
	list := p.roles[profession]
	if len(list) == 0 {
		return ""
	}
	return list[r.IntN(len(list))]
}

// territory is every provider, by kind and district, to route encounters.
type territory struct {
	all      []*provider
	clusters map[string]*provider // HA cluster code → provider
	dh       *provider
	local    map[string][][]*provider // kind → district → providers
	wide     map[string][]*provider   // kind → territory-wide providers
	pracs    int
}

// cluster is a Hospital Authority cluster and its hospitals.
type cluster struct {
	code, name string
	hospitals  []string
}

// clusters are the Hospital Authority's seven clusters and their
// hospitals (each a service location).
var clusters = []cluster{
	{"HKE", "Hong Kong East Cluster", []string{"Pamela Youde Nethersole Eastern Hospital", "Ruttonjee Hospital"}},
	{"HKW", "Hong Kong West Cluster", []string{"Queen Mary Hospital", "Tung Wah Hospital"}},
	{"KC", "Kowloon Central Cluster", []string{"Queen Elizabeth Hospital", "Hong Kong Children's Hospital"}},
	{"KE", "Kowloon East Cluster", []string{"United Christian Hospital", "Tseung Kwan O Hospital"}},
	{"KW", "Kowloon West Cluster", []string{"Princess Margaret Hospital", "Caritas Medical Centre", "Kwong Wah Hospital"}},
	{"NTE", "New Territories East Cluster", []string{"Prince of Wales Hospital", "Alice Ho Miu Ling Nethersole Hospital", "North District Hospital"}},
	{"NTW", "New Territories West Cluster", []string{"Tuen Mun Hospital", "Pok Oi Hospital"}},
}

// privateHospitals serve the whole territory.
var privateHospitals = []string{"Hong Kong Sanatorium & Hospital", "St. Teresa's Hospital", "Union Hospital", "Gleneagles Hospital Hong Kong"}

// labs serve the whole territory.
var labs = []string{"Harbour Medical Laboratory", "Kowloon Pathology Centre", "New Territories Diagnostic Laboratory"}

// staff is how many professionals of each profession a kind of provider
// has (assumed, small: enough for the demo's encounters).
var staff = map[string]map[string]int{
	"cluster":   {"doctor": 6, "nurse": 4, "pharmacist": 1, "radiographer": 1, "laboratory-technologist": 1},
	"dh":        {"doctor": 4, "nurse": 6},
	"hospital":  {"doctor": 3, "nurse": 2, "pharmacist": 1},
	"clinic":    {"doctor": 2, "nurse": 1},
	"lab":       {"laboratory-technologist": 2},
	"pharmacy":  {"pharmacist": 1},
	"care-home": {"nurse": 2, "doctor": 1},
	"cm-clinic": {"chinese-medicine-practitioner": 2},
	"dental":    {"dentist": 1, "dental-hygienist": 1},
}

// registrationPrefix gives each council's register numbers a letter
// (assumed formats: a letter and five digits; CM practitioners six digits).
var registrationPrefix = map[string]string{
	"mchk": "M", "dchk": "D", "cmchk": "0", "ppbhk": "P", "nchk": "RN", "mltb": "MT", "rb": "RD", "dhygchk": "DH",
}

// buildTerritory draws the providers from their own stream of the seed
// and writes them.
func buildTerritory(seed int64, w Writer) (*territory, error) {
	r := rand.New(rand.NewPCG(uint64(seed), 1<<62))
	t := &territory{clusters: map[string]*provider{}, local: map[string][][]*provider{}, wide: map[string][]*provider{}}
	for _, c := range clusters {
		p := t.add("ha-"+lower(c.code), "hospital", "Hospital Authority "+c.name, -1, true)
		t.clusters[c.code] = p
	}
	t.dh = t.add("dh", "clinic", "Department of Health", -1, true)
	for _, name := range privateHospitals {
		t.add(fmt.Sprintf("ph-%d", len(t.wide["hospital"])+1), "hospital", name, -1, false)
	}
	for _, name := range labs {
		t.add(fmt.Sprintf("lab-%d", len(t.wide["lab"])+1), "lab", name, -1, false)
	}
	for d := range districts {
		t.addLocal(r, d)
	}
	return t, t.write(r, w)
}

// addLocal adds a district's private providers.
func (t *territory) addLocal(r *rand.Rand, d int) {
	dist := districts[d]
	for i := 0; i < 3; i++ {
		doc := drawPerson(r, 45)
		t.add(fmt.Sprintf("gp-%s-%d", lower(dist.code), i+1), "clinic", fmt.Sprintf("Dr %s %s Medical Clinic (%s)", doc.given[0].en, doc.family.en, dist.en), d, false)
	}
	kinds := []struct{ kind, prefix, name string }{
		{"dental", "dn", "%s Dental Centre"}, {"cm-clinic", "cm", "%s Chinese Medicine Clinic"},
		{"pharmacy", "rx", "%s Community Pharmacy"}, {"care-home", "ch", "%s Care Home for the Elderly"},
	}
	for _, k := range kinds {
		t.add(fmt.Sprintf("%s-%s", k.prefix, lower(dist.code)), k.kind, fmt.Sprintf(k.name, dist.en), d, false)
	}
}

func (t *territory) add(id, kind, name string, d int, public bool) *provider {
	p := &provider{id: id, kind: kind, name: name, district: d, public: public, roles: map[string][]string{}}
	t.all = append(t.all, p)
	if d >= 0 {
		if t.local[kind] == nil {
			t.local[kind] = make([][]*provider, len(districts))
		}
		t.local[kind][d] = append(t.local[kind][d], p)
	} else if !public {
		t.wide[kind] = append(t.wide[kind], p)
	}
	return p
}

// write writes every provider: Organization, Locations, and each
// professional's Practitioner and PractitionerRole, as the providers'
// registry writes them.
func (t *territory) write(r *rand.Rand, w Writer) error {
	for _, p := range t.all {
		if err := w.Write("Organization", organization(p)); err != nil {
			return err
		}
		if err := t.writeLocations(p, w); err != nil {
			return err
		}
		if err := t.writeStaff(r, p, w); err != nil {
			return err
		}
	}
	return nil
}

func (t *territory) writeLocations(p *provider, w Writer) error {
	names := []string{p.name}
	if cl, ok := t.clusterOf(p); ok {
		names = cl.hospitals
	} else if p == t.dh {
		names = nil
		for _, d := range districts {
			names = append(names, d.en+" Maternal and Child Health Centre", d.en+" Elderly Health Centre")
		}
	}
	for i, name := range names {
		id := fmt.Sprintf("%s-%d", p.id, i+1)
		p.locations = append(p.locations, id)
		loc := map[string]any{
			"resourceType": "Location", "id": id, "status": "active", "name": name, "mode": "instance",
			"managingOrganization": ref("Organization", p.id),
			"address":              map[string]any{"city": "Hong Kong", "country": "HK"},
		}
		if p.district >= 0 {
			loc["address"].(map[string]any)["district"] = districts[p.district].en
		}
		if err := w.Write("Location", loc); err != nil {
			return err
		}
	}
	return nil
}

// clusterOf is the cluster p is, if it is one.
func (t *territory) clusterOf(p *provider) (cluster, bool) {
	for _, c := range clusters {
		if t.clusters[c.code] == p {
			return c, true
		}
	}
	return cluster{}, false
}

func (t *territory) writeStaff(r *rand.Rand, p *provider, w Writer) error {
	kind := p.kind
	switch {
	case p == t.dh:
		kind = "dh"
	case p.public:
		kind = "cluster"
	}
	for _, profession := range sortedKeys(staff[kind]) {
		for i := 0; i < staff[kind][profession]; i++ {
			t.pracs++
			prac, role := professional(r, t.pracs, p, profession)
			p.roles[profession] = append(p.roles[profession], role["id"].(string))
			if err := w.Write("Practitioner", prac); err != nil {
				return err
			}
			if err := w.Write("PractitionerRole", role); err != nil {
				return err
			}
		}
	}
	return nil
}

// organization is a provider as registry.AddProvider writes it.
func organization(p *provider) map[string]any {
	org := map[string]any{
		"resourceType": "Organization", "id": p.id, "active": true, "name": p.name,
		"type": []any{
			map[string]any{"coding": []any{map[string]any{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider"}}},
			map[string]any{"coding": []any{map[string]any{"system": registry.ProviderKindSystem, "code": p.kind, "display": registry.ProviderKinds[p.kind]}}},
		},
	}
	tagRegistered(org)
	return org
}

// professional is the n-th professional, as registry.AddProfessional
// writes them: a Practitioner with the council's registration number and
// a PractitionerRole at p coded with the profession and the role.
func professional(r *rand.Rand, n int, p *provider, profession string) (prac, role map[string]any) {
	prof := registry.Professions[profession]
	who := drawPerson(r, 30+r.IntN(35))
	number := fmt.Sprintf("%s%05d", registrationPrefix[prof.Council], 10000+n*37%90000)
	if prof.Council == "cmchk" {
		number = fmt.Sprintf("%06d", 1000+n*53%999000)
	}
	prac = map[string]any{
		"resourceType": "Practitioner", "id": fmt.Sprintf("prac-%04d", n), "active": true,
		"identifier": []any{map[string]any{
			"use": "official",
			"type": map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "LN", "display": "License number",
			}}, "text": registry.Councils[prof.Council]},
			"system": registry.RegistrationSystemPrefix + prof.Council,
			"value":  number,
		}},
		"name": []any{map[string]any{"text": who.display(), "extension": []any{map[string]any{
			"url": registry.LanguageExtension, "valueCode": registry.LangEnglish,
		}}}},
	}
	codings := []any{map[string]any{"system": registry.ProfessionalRoleSystem, "code": prof.Code, "display": prof.Display}}
	if prof.SNOMED != "" {
		codings = append(codings, map[string]any{"system": registry.SNOMEDSystem, "code": prof.SNOMED})
	}
	role = map[string]any{
		"resourceType": "PractitionerRole", "id": fmt.Sprintf("role-%04d", n), "active": true,
		"practitioner": ref("Practitioner", prac["id"].(string)),
		"organization": ref("Organization", p.id),
		"code": []any{
			map[string]any{"coding": codings, "text": prof.Display},
			map[string]any{"coding": []any{map[string]any{"system": registry.ProfessionalRoleSystem, "code": "healthcare-professional", "display": registry.ProfessionalRoles["healthcare-professional"]}}},
		},
	}
	tagRegistered(prac)
	tagRegistered(role)
	return prac, role
}

// tagRegistered tags res as the providers' registry tags its entries (and
// the registry its SDMs): only the platform's code and the operator change
// them.
func tagRegistered(res map[string]any) {
	resource.AddTag(res, resource.RegistryOriginSystem, resource.RegistryOriginRegistry)
}
