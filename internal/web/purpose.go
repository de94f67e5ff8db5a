package web

// SetPurpose makes the app's sign-ins ask the authorization server for a
// purpose of use (a v3 PurposeOfUse code such as TREAT), which the access
// token then carries and the audit journal records with every access (the
// citizen's access history says "during a consultation"). Only a
// professional acting for a provider may be given one; call it before
// serving.
func (a *App) SetPurpose(code string) { a.client.purpose = code }
