package notify

// ForTests makes river start its periodic jobs without its random delay.
func ForTests(c *Config) { c.testOnly = true }
